//! The metrics sink: header handling, appending on resume, and dropping rows after a checkpoint.

use dime_algos::{truncate_rows_after, MetricsSink};

#[test]
fn rows_are_written_reopened_and_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.csv");
    let mut sink = MetricsSink::open(&path, &["step", "return"]).unwrap();
    sink.write_row(&[1000.0, -150.25]).unwrap();
    sink.write_row(&[2000.0, 0.1]).unwrap();
    assert!(sink.write_row(&[1.0]).is_err(), "wrong number of values");
    drop(sink);
    let mut sink = MetricsSink::open(&path, &["step", "return"]).unwrap();
    sink.write_row(&[3000.0, -1e-7]).unwrap();
    assert!(MetricsSink::open(&path, &["step", "other"]).is_err(), "a different header is refused");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "step,return\n1000,-150.25\n2000,0.1\n3000,-0.0000001\n");
    truncate_rows_after(&path, 2000.0).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "step,return\n1000,-150.25\n2000,0.1\n");
}
