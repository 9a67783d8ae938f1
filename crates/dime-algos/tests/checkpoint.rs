//! Checkpoints: round trip, atomic replacement, and refusal of damaged files with their name.

use dime_algos::checkpoint::{latest_checkpoint, read_checkpoint, write_checkpoint, CheckpointFiles};
use dime_algos::AlgoError;

fn files(tag: u8) -> CheckpointFiles {
    let mut f = CheckpointFiles::new();
    f.insert("weights.safetensors".into(), vec![tag; 1000]);
    f.insert("state.json".into(), format!("{{\"step\": {tag}}}").into_bytes());
    f
}

#[test]
fn round_trip_and_latest_pointer() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(latest_checkpoint(dir.path()).unwrap(), None);
    let first = write_checkpoint(dir.path(), "step_1", &files(1)).unwrap();
    assert_eq!(read_checkpoint(&first).unwrap(), files(1));
    write_checkpoint(dir.path(), "step_2", &files(2)).unwrap();
    assert_eq!(latest_checkpoint(dir.path()).unwrap().as_deref(), Some("step_2"));
    // Rewriting a name replaces it whole.
    let again = write_checkpoint(dir.path(), "step_2", &files(3)).unwrap();
    assert_eq!(read_checkpoint(&again).unwrap(), files(3));
}

#[test]
fn a_truncated_file_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = write_checkpoint(dir.path(), "step_1", &files(1)).unwrap();
    let weights = ckpt.join("weights.safetensors");
    std::fs::write(&weights, vec![1u8; 999]).unwrap();
    let err = read_checkpoint(&ckpt).unwrap_err();
    assert!(matches!(&err, AlgoError::CorruptCheckpoint { path, .. } if *path == weights), "{err}");
    assert!(err.to_string().contains("weights.safetensors"), "{err}");
}

#[test]
fn a_flipped_byte_is_refused_by_the_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = write_checkpoint(dir.path(), "step_1", &files(1)).unwrap();
    let state = ckpt.join("state.json");
    let mut bytes = std::fs::read(&state).unwrap();
    bytes[3] ^= 0x20;
    std::fs::write(&state, bytes).unwrap();
    let err = read_checkpoint(&ckpt).unwrap_err();
    assert!(err.to_string().contains("checksum") && err.to_string().contains("state.json"), "{err}");
}

#[test]
fn an_interrupted_write_leaves_the_last_good_checkpoint() {
    // Simulate a kill mid-write: a half-written temporary folder for step_2 exists, LATEST is untouched.
    let dir = tempfile::tempdir().unwrap();
    write_checkpoint(dir.path(), "step_1", &files(1)).unwrap();
    let tmp = dir.path().join(".tmp-step_2");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::write(tmp.join("weights.safetensors"), [0u8; 10]).unwrap();
    assert_eq!(latest_checkpoint(dir.path()).unwrap().as_deref(), Some("step_1"));
    assert_eq!(read_checkpoint(&dir.path().join("step_1")).unwrap(), files(1));
    // The next write of step_2 cleans the leftover and succeeds.
    write_checkpoint(dir.path(), "step_2", &files(2)).unwrap();
    assert_eq!(read_checkpoint(&dir.path().join("step_2")).unwrap(), files(2));
}

#[test]
fn missing_manifest_and_bad_names_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(read_checkpoint(dir.path()).is_err());
    assert!(write_checkpoint(dir.path(), "../escape", &files(1)).is_err());
    assert!(write_checkpoint(dir.path(), "LATEST", &files(1)).is_err());
}
