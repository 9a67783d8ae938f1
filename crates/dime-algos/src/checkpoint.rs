//! Crash-safe checkpoints: a checkpoint is a folder of named files plus a manifest holding each
//! file's length and CRC-32.
//!
//! Writing goes to a temporary folder first, every file is synced, and only then is the folder
//! renamed into place and the `LATEST` pointer replaced (temp file, then rename). A kill at any
//! moment therefore leaves the previous checkpoint and pointer intact. Reading verifies every
//! file against the manifest, so a truncated or damaged file is refused with an error naming it.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::AlgoError;

const MANIFEST: &str = "manifest.json";
const LATEST: &str = "LATEST";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    /// Format version of the checkpoint folder.
    format: u32,
    /// Per file: length in bytes and CRC-32.
    files: BTreeMap<String, FileEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    len: u64,
    crc32: u32,
}

/// The files of one checkpoint, by name.
pub type CheckpointFiles = BTreeMap<String, Vec<u8>>;

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), AlgoError> {
    let mut f = fs::File::create(path).map_err(|e| AlgoError::io("creating", path, e))?;
    f.write_all(bytes).map_err(|e| AlgoError::io("writing", path, e))?;
    f.sync_all().map_err(|e| AlgoError::io("syncing", path, e))
}

/// Write `files` as checkpoint `name` under `root` and point `root/LATEST` at it.
/// Returns the checkpoint's folder.
pub fn write_checkpoint(root: &Path, name: &str, files: &CheckpointFiles) -> Result<PathBuf, AlgoError> {
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') || name == LATEST {
        return Err(AlgoError::CorruptCheckpoint { path: root.join(name), reason: "invalid checkpoint name".into() });
    }
    fs::create_dir_all(root).map_err(|e| AlgoError::io("creating", root, e))?;
    let tmp = root.join(format!(".tmp-{name}"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| AlgoError::io("removing", &tmp, e))?;
    }
    fs::create_dir(&tmp).map_err(|e| AlgoError::io("creating", &tmp, e))?;
    let mut manifest = Manifest { format: 1, files: BTreeMap::new() };
    for (file, bytes) in files {
        if file == MANIFEST || file.contains(['/', '\\']) {
            return Err(AlgoError::CorruptCheckpoint { path: tmp.join(file), reason: "invalid file name".into() });
        }
        write_synced(&tmp.join(file), bytes)?;
        manifest.files.insert(file.clone(), FileEntry { len: bytes.len() as u64, crc32: crc32fast::hash(bytes) });
    }
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    write_synced(&tmp.join(MANIFEST), &manifest_bytes)?;
    let dest = root.join(name);
    if dest.exists() {
        fs::remove_dir_all(&dest).map_err(|e| AlgoError::io("removing", &dest, e))?;
    }
    fs::rename(&tmp, &dest).map_err(|e| AlgoError::io("renaming", &tmp, e))?;
    let pointer_tmp = root.join(format!(".{LATEST}.tmp"));
    write_synced(&pointer_tmp, name.as_bytes())?;
    fs::rename(&pointer_tmp, root.join(LATEST)).map_err(|e| AlgoError::io("renaming", &pointer_tmp, e))?;
    Ok(dest)
}

/// The name `root/LATEST` points at, if any checkpoint was completed.
pub fn latest_checkpoint(root: &Path) -> Result<Option<String>, AlgoError> {
    let pointer = root.join(LATEST);
    match fs::read_to_string(&pointer) {
        Ok(name) => Ok(Some(name.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AlgoError::io("reading", pointer, e)),
    }
}

/// Read and verify checkpoint folder `dir`: every manifest entry must exist with its length and CRC-32.
pub fn read_checkpoint(dir: &Path) -> Result<CheckpointFiles, AlgoError> {
    let manifest_path = dir.join(MANIFEST);
    let raw = fs::read(&manifest_path).map_err(|e| AlgoError::io("reading", &manifest_path, e))?;
    let manifest: Manifest = serde_json::from_slice(&raw)
        .map_err(|e| AlgoError::CorruptCheckpoint { path: manifest_path.clone(), reason: e.to_string() })?;
    if manifest.format != 1 {
        let reason = format!("unknown format {}", manifest.format);
        return Err(AlgoError::CorruptCheckpoint { path: manifest_path, reason });
    }
    let mut files = CheckpointFiles::new();
    for (name, entry) in manifest.files {
        let path = dir.join(&name);
        let bytes = fs::read(&path).map_err(|e| AlgoError::io("reading", &path, e))?;
        if bytes.len() as u64 != entry.len {
            let reason = format!("{} bytes, the manifest says {} (truncated?)", bytes.len(), entry.len);
            return Err(AlgoError::CorruptCheckpoint { path, reason });
        }
        if crc32fast::hash(&bytes) != entry.crc32 {
            return Err(AlgoError::CorruptCheckpoint { path, reason: "checksum mismatch".into() });
        }
        files.insert(name, bytes);
    }
    Ok(files)
}
