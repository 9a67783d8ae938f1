//! `cargo xtask reproduce SUITE --slurm`: a Slurm job-array script with one array task per run.
//! Each task does what `reproduce` does for its run, with the same `dime` command lines: nothing
//! if the run is finished, `dime resume` if it has a checkpoint, otherwise `dime train` (after
//! removing a folder without one). Slurm sends SIGINT two minutes before the time limit; the
//! script passes it on so `dime` writes a checkpoint, and submitting the script again continues.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::plan::PlannedRun;

/// Quote `s` for bash (single quotes).
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Write `OUT/slurm-<suite>.sh` for `runs` and return its path.
pub fn write_slurm_script(
    dime: &Path,
    suite: &str,
    runs: &[PlannedRun],
    threads: usize,
    out: &Path,
) -> Result<PathBuf> {
    let out = absolute(out);
    let logs = out.join("logs").join("slurm");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let mut s = String::new();
    let last = runs.len().saturating_sub(1);
    writeln!(s, "#!/usr/bin/env bash")?;
    writeln!(s, "# Written by `cargo xtask reproduce {suite} --slurm`: one array task per run. Resubmitting")?;
    writeln!(s, "# continues interrupted runs and skips finished ones. Add your site's --partition/--time.")?;
    writeln!(s, "#SBATCH --job-name=dime-{suite}")?;
    writeln!(s, "#SBATCH --array=0-{last}")?;
    writeln!(s, "#SBATCH --cpus-per-task={threads}")?;
    writeln!(s, "#SBATCH --output={}/%a.out", logs.display())?;
    writeln!(s, "#SBATCH --signal=B:INT@120")?;
    writeln!(s, "set -euo pipefail")?;
    writeln!(s, "DIME={}", quote(&absolute(dime).display().to_string()))?;
    writeln!(s, "export RAYON_NUM_THREADS={threads} CANDLE_NUM_THREADS={threads}")?;
    writeln!(s, "case \"${{SLURM_ARRAY_TASK_ID:?run as an array job}}\" in")?;
    for (i, run) in runs.iter().enumerate() {
        let absolute_run = PlannedRun {
            dir: absolute(&run.dir),
            config: absolute(&run.config),
            log: absolute(&run.log),
            ..run.clone()
        };
        let train: Vec<String> = absolute_run.train_args().iter().map(|a| quote(a)).collect();
        writeln!(s, "  {i}) # {}", run.label())?;
        writeln!(
            s,
            "    DIR={}; BUDGET={}; LOG={}",
            quote(&absolute_run.dir.display().to_string()),
            run.steps,
            quote(&absolute_run.log.display().to_string())
        )?;
        writeln!(s, "    TRAIN=({}) ;;", train.join(" "))?;
    }
    writeln!(s, "  *) echo \"no run $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;")?;
    writeln!(s, "esac")?;
    s.push_str(
        r#"mkdir -p "$(dirname "$LOG")"
if [ -f "$DIR/checkpoints/LATEST" ]; then
  STEP=$(sed 's/^step_0*//' "$DIR/checkpoints/LATEST"); STEP=${STEP:-0}
  if [ "$STEP" -ge "$BUDGET" ]; then echo "finished already: $DIR"; exit 0; fi
  CMD=("$DIME" resume "$DIR")
else
  rm -rf "$DIR"
  CMD=("$DIME" "${TRAIN[@]}")
fi
echo "== slurm task $SLURM_ARRAY_TASK_ID: ${CMD[*]}" >> "$LOG"
"${CMD[@]}" >> "$LOG" 2>&1 &
CHILD=$!
trap 'kill -INT "$CHILD" 2>/dev/null || true' INT TERM
set +e
wait "$CHILD"; STATUS=$?
# A trapped signal ends the first wait early; the second waits for dime's checkpoint and exit.
if [ "$STATUS" -gt 128 ]; then wait "$CHILD"; STATUS=$?; fi
exit "$STATUS"
"#,
    );
    let path = out.join(format!("slurm-{suite}.sh"));
    std::fs::write(&path, s).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(path)
}
