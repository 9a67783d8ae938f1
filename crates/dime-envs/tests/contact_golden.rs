//! Collision, constraint rows and solver against MuJoCo 3.17's contact dumps (design notes §3.9
//! stage 2 (b), and the solver part of (c) without time stepping).
//!
//! Data: `tests/data/contact_<model>.json.gz` for the planar models, Ant-v5 and both humanoids,
//! copied from the shared golden folder: 20 states each from random-action rollouts, evaluated by `mj_forward`, with MuJoCo's
//! contacts, constraint rows, λ and `qacc`, plus a solve converged to 1e-15 (`converged`).
//! Each state is set with `set_state` + `set_ctrl` + `forward` and compared:
//! - contacts: count, geoms, `dist`, `pos`, `frame` to 1e-12 (geometry in double precision; the
//!   recorded values themselves carry ~1e-16 rounding);
//! - rows: count, kind, dense Jacobian, `pos`, `R`, `aref` to 1e-12 relative to the row's scale;
//! - forces: λ and `qacc` against the converged solve to 1e-9 relative to `max(1, max|λ|)` — the
//!   dump's converged and independent dual-QP solutions agree to 1.7e-14, so a correct solve of the
//!   same problem lands far inside that; the decoded contact force (`mj_contactForce`) and the
//!   per-body contact wrenches (`cfrc_ext`, torque about the tree's subtree COM) likewise.
//! - `body_invweight0` (which scales R) against the model file to 1e-12 relative.

mod common;

use dime_envs::sim::{assets, Data, Model, RowKind};
use serde::Deserialize;

#[derive(Deserialize)]
struct Dump {
    states: Vec<State>,
    /// How far the model's own solver (whose forces `contact_force` and `cfrc_ext` record) is
    /// from the converged solve, relative: ~1e-14 for Newton, 4.9e-5 for Humanoid-v5's PGS-50.
    max_rel_diff_efc_force_vs_converged: f64,
}

#[derive(Deserialize)]
struct State {
    qpos: Vec<f64>,
    qvel: Vec<f64>,
    ctrl: Vec<f64>,
    contacts: Vec<RecordedContact>,
    efc_type: Vec<u32>,
    efc_id: Vec<usize>,
    #[serde(rename = "efc_J_colind")]
    efc_j_colind: Vec<Vec<usize>>,
    #[serde(rename = "efc_J")]
    efc_j: Vec<Vec<f64>>,
    efc_pos: Vec<f64>,
    #[serde(rename = "efc_R")]
    efc_r: Vec<f64>,
    efc_aref: Vec<f64>,
    converged: Converged,
    #[serde(default)]
    sensordata: Vec<f64>,
    cfrc_ext: Vec<[f64; 6]>,
}

#[derive(Deserialize)]
struct RecordedContact {
    geom1: usize,
    geom2: usize,
    dist: f64,
    pos: [f64; 3],
    frame: [f64; 9],
    contact_force: [f64; 6],
}

#[derive(Deserialize)]
struct Converged {
    qacc: Vec<f64>,
    efc_force: Vec<f64>,
}

#[derive(Deserialize)]
struct ModelBodies {
    bodies: Vec<BodyInvweight>,
}

#[derive(Deserialize)]
struct BodyInvweight {
    body_invweight0: [f64; 2],
}

fn load(name: &str) -> Dump {
    common::load(name)
}

/// Largest error of each kind, printed by the test.
#[derive(Debug, Default)]
struct Errors {
    geometry: f64,
    jacobian: f64,
    regularizer: f64,
    aref: f64,
    force: f64,
    qacc: f64,
    contact_force: f64,
    cfrc_ext: f64,
    invweight: f64,
}

fn max_abs(a: f64, b: &mut f64) {
    *b = b.max(a);
}

fn check_model(name: &str, json: &str, dump_file: &str) {
    let model = Model::from_mujoco_json(name, json).unwrap();
    assert!(model.has_contacts());
    let mut err = Errors::default();
    let bodies: ModelBodies = serde_json::from_str(json).unwrap();
    for (ours, theirs) in model.body_invweight0().iter().zip(&bodies.bodies) {
        for (a, b) in ours.iter().zip(&theirs.body_invweight0) {
            // Relative error; the world's weights are 0 and compared absolutely.
            max_abs(if *b == 0.0 { a.abs() } else { (a - b).abs() / b.abs() }, &mut err.invweight);
        }
    }
    let dump = load(dump_file);
    let dump_tolerance = dump.max_rel_diff_efc_force_vs_converged;
    let mut data = Data::new(&model);
    for (i, s) in dump.states.iter().enumerate() {
        data.set_state(&model, &s.qpos, &s.qvel).unwrap();
        data.set_ctrl(&model, &s.ctrl).unwrap();
        data.forward(&model).unwrap();
        let contacts = data.contacts();
        assert_eq!(contacts.len(), s.contacts.len(), "state {i}: contact count");
        for (c, (ours, theirs)) in contacts.iter().zip(&s.contacts).enumerate() {
            assert_eq!((ours.geom1, ours.geom2), (theirs.geom1, theirs.geom2), "state {i} contact {c}: geoms");
            max_abs((ours.dist - theirs.dist).abs(), &mut err.geometry);
            for k in 0..3 {
                max_abs((ours.pos[k] - theirs.pos[k]).abs(), &mut err.geometry);
                for m in 0..3 {
                    max_abs((ours.frame[k][m] - theirs.frame[3 * k + m]).abs(), &mut err.geometry);
                }
            }
        }
        let n = data.nefc();
        assert_eq!(n, s.efc_type.len(), "state {i}: row count");
        let scale_force = s.converged.efc_force.iter().fold(1.0_f64, |m, f| m.max(f.abs()));
        for r in 0..n {
            let expected_kind = match s.efc_type[r] {
                3 => RowKind::Limit(s.efc_id[r]),
                5 | 6 => RowKind::Contact(s.efc_id[r]),
                other => panic!("unexpected row type {other}"),
            };
            assert_eq!(data.efc_kind(r), expected_kind, "state {i} row {r}: kind");
            let mut dense = vec![0.0; model.nv()];
            for (&col, &v) in s.efc_j_colind[r].iter().zip(&s.efc_j[r]) {
                dense[col] = v;
            }
            for (a, b) in data.efc_jacobian(r).iter().zip(&dense) {
                max_abs((a - b).abs(), &mut err.jacobian);
            }
            max_abs((data.efc_pos()[r] - s.efc_pos[r]).abs(), &mut err.geometry);
            max_abs((data.efc_r()[r] - s.efc_r[r]).abs() / s.efc_r[r], &mut err.regularizer);
            max_abs((data.efc_aref()[r] - s.efc_aref[r]).abs() / s.efc_aref[r].abs().max(1.0), &mut err.aref);
            max_abs((data.efc_force()[r] - s.converged.efc_force[r]).abs() / scale_force, &mut err.force);
        }
        let scale_qacc = s.converged.qacc.iter().fold(1.0_f64, |m, a| m.max(a.abs()));
        for (a, b) in data.qacc().iter().zip(&s.converged.qacc) {
            max_abs((a - b).abs() / scale_qacc, &mut err.qacc);
        }
        for (b, theirs) in s.cfrc_ext.iter().enumerate() {
            for (a, t) in data.cfrc_ext(b).iter().zip(theirs) {
                max_abs((a - t).abs() / scale_force, &mut err.cfrc_ext);
            }
        }
        for (c, theirs) in s.contacts.iter().enumerate() {
            let ours = data.contact_force(c);
            for (a, b) in ours.iter().zip(&theirs.contact_force) {
                max_abs((a - b).abs() / scale_force, &mut err.contact_force);
            }
        }
    }
    println!("{name}: {err:?}");
    assert!(err.geometry <= 1e-12, "{name}: contact geometry off by {}", err.geometry);
    assert!(err.jacobian <= 1e-12, "{name}: Jacobian off by {}", err.jacobian);
    assert!(err.regularizer <= 1e-12, "{name}: R off by {} (relative)", err.regularizer);
    assert!(err.aref <= 1e-12, "{name}: aref off by {} (relative)", err.aref);
    assert!(err.invweight <= 1e-12, "{name}: body_invweight0 off by {} (relative)", err.invweight);
    assert!(err.force <= 1e-9, "{name}: λ off by {} (relative)", err.force);
    // Contact forces and wrenches are recorded from the model's own solve: allow its distance from
    // the converged one (twice, for the decoding's sums) where that exceeds 1e-9.
    let recorded = 1e-9_f64.max(2.0 * dump_tolerance);
    assert!(err.contact_force <= recorded, "{name}: contact force off by {} (relative)", err.contact_force);
    assert!(err.cfrc_ext <= recorded, "{name}: cfrc_ext off by {} (relative)", err.cfrc_ext);
    assert!(err.qacc <= 1e-9, "{name}: qacc off by {} (relative)", err.qacc);
}

#[test]
fn halfcheetah_v5_contacts_rows_and_forces_match_mujoco() {
    check_model("gym/halfcheetah", assets::GYM_HALFCHEETAH, "contact_gym_halfcheetah.json.gz");
}

#[test]
fn dmc_cheetah_contacts_rows_and_forces_match_mujoco() {
    check_model("dmc/cheetah", assets::DMC_CHEETAH, "contact_dmc_cheetah.json.gz");
}

#[test]
fn hopper_v5_contacts_rows_and_forces_match_mujoco() {
    check_model("gym/hopper", assets::GYM_HOPPER, "contact_gym_hopper.json.gz");
}

#[test]
fn walker2d_v5_contacts_rows_and_forces_match_mujoco() {
    check_model("gym/walker2d", assets::GYM_WALKER2D, "contact_gym_walker2d.json.gz");
}

#[test]
fn dmc_hopper_contacts_rows_and_forces_match_mujoco() {
    // Includes capsule–capsule self-contacts (condim 3).
    check_model("dmc/hopper", assets::DMC_HOPPER, "contact_dmc_hopper.json.gz");
}

#[test]
fn dmc_walker_contacts_rows_and_forces_match_mujoco() {
    check_model("dmc/walker", assets::DMC_WALKER, "contact_dmc_walker.json.gz");
}

#[test]
fn dmc_hopper_touch_sensors_match_mujoco() {
    // DMC hopper's sensors: torso_subtreelinvel (3 values), touch_toe, touch_heel (sensordata[3..5]).
    // The touch sums normal forces (~10–1000 N) of the model's own solve, which is within 4.4e-16
    // relative of the converged one (dump header), so the same 1e-9 relative bound as λ applies.
    let model = Model::from_mujoco_json("dmc/hopper", assets::DMC_HOPPER).unwrap();
    let (toe, heel, torso) = (model.site_id("touch_toe").unwrap(), model.site_id("touch_heel").unwrap(), 1);
    let mut data = Data::new(&model);
    let (mut worst, mut touching) = (0.0_f64, 0);
    for s in load("contact_dmc_hopper.json.gz").states {
        data.set_state(&model, &s.qpos, &s.qvel).unwrap();
        data.set_ctrl(&model, &s.ctrl).unwrap();
        data.forward(&model).unwrap();
        let v = data.subtree_linvel(&model, torso);
        for (ours, theirs) in v.iter().chain(&[data.touch(&model, toe), data.touch(&model, heel)]).zip(&s.sensordata) {
            worst = worst.max((ours - theirs).abs() / theirs.abs().max(1.0));
        }
        touching += usize::from(s.sensordata[3] > 0.0) + usize::from(s.sensordata[4] > 0.0);
    }
    println!("dmc hopper sensors: worst relative error {worst:e}; {touching} nonzero touch readings");
    assert!(touching >= 5, "the dump should exercise the touch sensors ({touching} nonzero readings)");
    assert!(worst <= 1e-9, "sensors off by {worst} (relative)");
}

#[test]
fn ant_v5_contacts_rows_and_forces_match_mujoco() {
    // Free-joint torso, jointless leg bodies welded to their parents, plane–sphere and
    // plane–capsule contacts with margins (0.01 per geom), and limit rows with margins.
    check_model("gym/ant", assets::GYM_ANT, "contact_gym_ant.json.gz");
}

#[test]
fn humanoid_v5_contacts_rows_and_forces_match_mujoco() {
    // Self-contacts (sphere–sphere, sphere–capsule, capsule–capsule, condim 1) and a model solved
    // by MuJoCo with PGS-50 (the comparison is with the dump's converged solve).
    check_model("gym/humanoid", assets::GYM_HUMANOID, "contact_gym_humanoid.json.gz");
}

#[test]
fn dmc_humanoid_contacts_rows_and_forces_match_mujoco() {
    check_model("dmc/humanoid", assets::DMC_HUMANOID, "contact_dmc_humanoid.json.gz");
}
