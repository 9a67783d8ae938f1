//! The metrics sink: one CSV row per evaluation, flushed as it is written so an interrupted run
//! keeps every row it reported. Columns are fixed when the sink is created.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crate::error::AlgoError;

/// Appends rows of numbers under a fixed header to a CSV file.
pub struct MetricsSink {
    path: PathBuf,
    file: File,
    columns: Vec<String>,
}

impl MetricsSink {
    /// Create `path` with `columns` as header, or reopen it for appending if it already holds
    /// that header (a resumed run); a different header is an error.
    pub fn open(path: &Path, columns: &[&str]) -> Result<Self, AlgoError> {
        let header = columns.join(",");
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        if path.exists() {
            let existing = File::open(path).map_err(|e| AlgoError::io("reading", path, e))?;
            let mut first = String::new();
            BufReader::new(existing).read_line(&mut first).map_err(|e| AlgoError::io("reading", path, e))?;
            if first.trim_end() != header {
                return Err(AlgoError::io(
                    "appending to",
                    path,
                    std::io::Error::other(format!("its header `{}` differs from `{header}`", first.trim_end())),
                ));
            }
            let file = OpenOptions::new().append(true).open(path).map_err(|e| AlgoError::io("opening", path, e))?;
            return Ok(Self { path: path.to_path_buf(), file, columns });
        }
        let mut file = File::create(path).map_err(|e| AlgoError::io("creating", path, e))?;
        writeln!(file, "{header}").map_err(|e| AlgoError::io("writing", path, e))?;
        Ok(Self { path: path.to_path_buf(), file, columns })
    }

    /// Append one row; `values` must match the columns in number.
    pub fn write_row(&mut self, values: &[f64]) -> Result<(), AlgoError> {
        if values.len() != self.columns.len() {
            let msg = format!("row has {} values for {} columns", values.len(), self.columns.len());
            return Err(AlgoError::io("writing", &self.path, std::io::Error::other(msg)));
        }
        // `{}` prints the shortest representation that reads back to the same f64.
        let row: Vec<String> = values.iter().map(|v| format!("{v}")).collect();
        writeln!(self.file, "{}", row.join(",")).map_err(|e| AlgoError::io("writing", &self.path, e))?;
        self.file.flush().map_err(|e| AlgoError::io("writing", &self.path, e))
    }

    /// The column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
}

/// Drop every data row whose first column exceeds `max_step` (used when a run resumes from a
/// checkpoint older than the last rows written). Rewrites the file atomically.
pub fn truncate_rows_after(path: &Path, max_step: f64) -> Result<(), AlgoError> {
    let text = std::fs::read_to_string(path).map_err(|e| AlgoError::io("reading", path, e))?;
    let mut kept = String::new();
    for (i, line) in text.lines().enumerate() {
        let step = line.split(',').next().and_then(|s| s.parse::<f64>().ok());
        if i == 0 || step.is_some_and(|s| s <= max_step) {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    let tmp = path.with_extension("csv.tmp");
    std::fs::write(&tmp, kept).map_err(|e| AlgoError::io("writing", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| AlgoError::io("renaming", &tmp, e))
}
