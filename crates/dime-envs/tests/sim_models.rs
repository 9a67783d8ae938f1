//! Building models: the embedded DMC models load and reproduce MuJoCo's derived constants;
//! inconsistent or unsupported models are refused with a typed error.

use dime_envs::sim::assets::{DMC_ACROBOT, DMC_CARTPOLE, DMC_PENDULUM, DMC_POINT_MASS, DMC_REACHER};
use dime_envs::sim::{Model, SimError};
use serde_json::Value;

const MODELS: [(&str, &str); 5] = [
    ("pendulum", DMC_PENDULUM),
    ("cartpole", DMC_CARTPOLE),
    ("acrobot", DMC_ACROBOT),
    ("point_mass", DMC_POINT_MASS),
    ("reacher", DMC_REACHER),
];

#[test]
fn dof_invweight0_matches_mujoco_for_every_embedded_model() {
    // MuJoCo's set0 values are in each dump (dofs[].dof_invweight0); envs.md §3.1 lists
    // cartpole (0.973352054, 31.102394359), point_mass 3.333…, reacher (2568.21…, 20740.5…).
    for (name, json) in MODELS {
        let model = Model::from_mujoco_json(name, json).unwrap();
        let file: Value = serde_json::from_str(json).unwrap();
        for (d, ours) in model.dof_invweight0().iter().enumerate() {
            let theirs = file["dofs"][d]["dof_invweight0"].as_f64().unwrap();
            assert!((ours - theirs).abs() <= 1e-12 * theirs, "{name} dof {d}: {ours} vs {theirs}");
        }
    }
}

/// Build `name` after applying `edit` to its JSON.
fn edited(name: &str, json: &str, edit: impl FnOnce(&mut Value)) -> Result<Model, SimError> {
    let mut value: Value = serde_json::from_str(json).unwrap();
    edit(&mut value);
    Model::from_mujoco_json(name, &value.to_string())
}

fn invalid(result: Result<Model, SimError>, needle: &str) {
    match result {
        Err(e @ SimError::InvalidModel { .. }) => assert!(e.to_string().contains(needle), "{e}"),
        other => panic!("expected InvalidModel mentioning `{needle}`, got {other:?}"),
    }
}

#[test]
fn inconsistent_constants_are_refused() {
    invalid(edited("cartpole", DMC_CARTPOLE, |v| v["bodies"][2]["mass"] = (-0.1).into()), "mass");
    invalid(
        edited("cartpole", DMC_CARTPOLE, |v| v["bodies"][1]["quat"] = serde_json::json!([1.0, 0.1, 0.0, 0.0])),
        "quat",
    );
    invalid(
        edited("cartpole", DMC_CARTPOLE, |v| v["bodies"][1]["iquat"] = serde_json::json!([0.0, 0.0, 0.0, 0.0])),
        "iquat",
    );
    invalid(
        edited("cartpole", DMC_CARTPOLE, |v| v["bodies"][2]["inertia"] = serde_json::json!([0.1, 0.01, 0.01])),
        "triangle",
    );
    invalid(edited("cartpole", DMC_CARTPOLE, |v| v["bodies"][1]["parent"] = 2.into()), "parent");
    invalid(edited("cartpole", DMC_CARTPOLE, |v| v["joints"][0]["range"] = serde_json::json!([1.8, -1.8])), "range");
    invalid(edited("cartpole", DMC_CARTPOLE, |v| v["joints"][1]["axis"] = serde_json::json!([0.0, 2.0, 0.0])), "axis");
    invalid(edited("cartpole", DMC_CARTPOLE, |v| v["option"]["timestep"] = 0.0.into()), "timestep");
    invalid(edited("cartpole", DMC_CARTPOLE, |v| v["dofs"][0]["damping"] = (-1.0).into()), "damping");
    invalid(edited("cartpole", DMC_CARTPOLE, |v| v["joints"][1]["qposadr"] = 0.into()), "addresses");
    // A hinged body without mass or inertia makes M singular.
    let massless = |v: &mut Value| {
        v["bodies"][1]["mass"] = 0.0.into();
        v["bodies"][1]["inertia"] = serde_json::json!([0.0, 0.0, 0.0]);
    };
    invalid(edited("pendulum", DMC_PENDULUM, massless), "positive definite");
}

#[test]
fn unsupported_features_are_refused_not_ignored() {
    let unsupported = |result: Result<Model, SimError>, needle: &str| match result {
        Err(e @ SimError::Unsupported { .. }) => assert!(e.to_string().contains(needle), "{e}"),
        other => panic!("expected Unsupported mentioning `{needle}`, got {other:?}"),
    };
    unsupported(edited("cartpole", DMC_CARTPOLE, |v| v["option"]["disableflags"] = 0.into()), "contacts");
    unsupported(edited("cartpole", DMC_CARTPOLE, |v| v["option"]["integrator"] = 3.into()), "integrator");
    unsupported(
        edited("cartpole", DMC_CARTPOLE, |v| v["option"]["disableflags"] = 16_u32.wrapping_add(128).into()),
        "disableflags",
    );
    unsupported(edited("cartpole", DMC_CARTPOLE, |v| v["option"]["viscosity"] = 0.1.into()), "fluid");
    unsupported(edited("cartpole", DMC_CARTPOLE, |v| v["dofs"][1]["frictionloss"] = 0.1.into()), "friction");
    unsupported(edited("cartpole", DMC_CARTPOLE, |v| v["actuators"][0]["biastype"] = 1.into()), "plain motor");
    unsupported(edited("point_mass", DMC_POINT_MASS, |v| v["tendons"][0]["tendon_damping"] = 1.0.into()), "tendon");
}

#[test]
fn malformed_files_are_format_errors() {
    let err = edited("pendulum", DMC_PENDULUM, |v| v["bodies"][1]["colour"] = "red".into()).unwrap_err();
    assert!(matches!(err, SimError::ModelFormat { .. }) && err.to_string().contains("colour"), "{err}");
    let err = Model::from_mujoco_json("pendulum", "{").unwrap_err();
    assert!(matches!(err, SimError::ModelFormat { .. }), "{err}");
}
