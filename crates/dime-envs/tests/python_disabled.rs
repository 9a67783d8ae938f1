//! Without the `python` feature, a `py/...` id is a clear error that says how to rebuild.
#![cfg(not(feature = "python"))]

use dime_envs::{make, EnvConfig, EnvError};

#[test]
fn a_py_id_without_the_feature_says_how_to_rebuild() {
    let err = make("py/Hopper-v5", &EnvConfig::default()).err().expect("the default build has no bridge");
    assert!(matches!(&err, EnvError::PythonBridgeDisabled { id } if id == "py/Hopper-v5"), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("--features python") && text.contains("docs/python-bridge.md"), "{text}");
}
