//! Building contact models: the embedded planar models load with MuJoCo's derived constants
//! (`dof_invweight0` to 1e-12 relative; `body_invweight0` is checked in `contact_golden.rs`),
//! their candidate contact pairs follow MuJoCo's filters, and contact features the engine does not
//! simulate are refused with a typed error instead of being ignored.

use dime_envs::sim::assets::{
    DMC_CARTPOLE, DMC_CHEETAH, DMC_HOPPER, DMC_WALKER, GYM_HALFCHEETAH, GYM_HOPPER, GYM_WALKER2D,
};
use dime_envs::sim::collision::{collide, GeomPose, GeomShape};
use dime_envs::sim::{Data, Model, SimError};
use serde_json::Value;

const MODELS: [(&str, &str); 6] = [
    ("gym/halfcheetah", GYM_HALFCHEETAH),
    ("gym/hopper", GYM_HOPPER),
    ("gym/walker2d", GYM_WALKER2D),
    ("dmc/cheetah", DMC_CHEETAH),
    ("dmc/hopper", DMC_HOPPER),
    ("dmc/walker", DMC_WALKER),
];

#[test]
fn dof_invweight0_matches_mujoco_for_every_contact_model() {
    // Hopper-v5's values are also listed in the design notes (§3.1): 0.190927915, 0.063839274, ...
    for (name, json) in MODELS {
        let model = Model::from_mujoco_json(name, json).unwrap();
        assert!(model.has_contacts(), "{name}");
        let file: Value = serde_json::from_str(json).unwrap();
        for (d, ours) in model.dof_invweight0().iter().enumerate() {
            let theirs = file["dofs"][d]["dof_invweight0"].as_f64().unwrap();
            assert!((ours - theirs).abs() <= 1e-12 * theirs, "{name} dof {d}: {ours} vs {theirs}");
        }
    }
}

#[test]
fn self_contacts_follow_mujocos_filters() {
    // DMC cheetah: every geom collides with every other (contype = conaffinity = 1), except geoms
    // of one body (torso + head) and of parent and child bodies. With the back shin bent forward
    // (0.8 rad) and the back foot folded back by 3 rad (its range reaches −4 rad), the foot capsule
    // crosses the back thigh and the torso, 2 m above the ground; the shin (its parent) is
    // filtered out. Gym HalfCheetah's body geoms have conaffinity 0 and never touch each other.
    for (name, json, expect_self) in [("dmc/cheetah", DMC_CHEETAH, true), ("gym/halfcheetah", GYM_HALFCHEETAH, false)] {
        let model = Model::from_mujoco_json(name, json).unwrap();
        let mut data = Data::new(&model);
        let qpos = [0.0, 2.0, 0.0, 0.0, 0.8, -3.0, 0.0, 0.0, 0.0];
        data.set_state(&model, &qpos, &[0.0; 9]).unwrap();
        let bodies: Vec<(usize, usize)> = data.contacts().iter().map(|c| (c.body1, c.body2)).collect();
        assert!(bodies.iter().all(|&(a, b)| a != 0 && b != 0), "{name}: no ground contact 2 m up: {bodies:?}");
        assert_eq!(!bodies.is_empty(), expect_self, "{name}: self-contacts {bodies:?}");
        // The back shin and foot capsules (parent and child) overlap at the ankle, yet the
        // parent filter keeps them out.
        let (shin, foot) = (model.geom_id("bshin").unwrap(), model.geom_id("bfoot").unwrap());
        let pose = |g| GeomPose { pos: data.geom_xpos(&model, g), mat: data.geom_xmat(&model, g) };
        let capsule = |g: usize| {
            let size = model.spec().geoms[g].size;
            GeomShape::Capsule { radius: size[0], half_length: size[1] }
        };
        let [overlap, _] = collide(capsule(shin), &pose(shin), capsule(foot), &pose(foot), 0.0);
        assert!(overlap.is_some_and(|c| c.dist < 0.0), "{name}: shin and foot should overlap at the ankle");
        assert!(!bodies.contains(&(3, 4)), "{name}: parent and child collided");
        for &(a, b) in &bodies {
            let (pa, pb) = (model.spec().bodies[a].parent, model.spec().bodies[b].parent);
            assert!(a != b && pa != b && pb != a, "{name}: filtered pair ({a}, {b}) collided");
        }
    }
}

/// Build `name` after applying `edit` to its JSON.
fn edited(name: &str, json: &str, edit: impl FnOnce(&mut Value)) -> Result<Model, SimError> {
    let mut value: Value = serde_json::from_str(json).unwrap();
    edit(&mut value);
    Model::from_mujoco_json(name, &value.to_string())
}

#[test]
fn unsupported_contact_features_are_refused_not_ignored() {
    let unsupported = |result: Result<Model, SimError>, needle: &str| match result {
        Err(e @ SimError::Unsupported { .. }) => assert!(e.to_string().contains(needle), "{e}"),
        other => panic!("expected Unsupported mentioning `{needle}`, got {other:?}"),
    };
    // Cartpole's cart is a box: with contacts switched on it cannot be simulated.
    unsupported(edited("cartpole", DMC_CARTPOLE, |v| v["option"]["disableflags"] = 0.into()), "box");
    unsupported(edited("cheetah", DMC_CHEETAH, |v| v["option"]["cone"] = 1.into()), "elliptic");
    unsupported(edited("cheetah", DMC_CHEETAH, |v| v["option"]["noslip_iterations"] = 4.into()), "noslip");
    unsupported(edited("cheetah", DMC_CHEETAH, |v| v["geoms"][1]["condim"] = 6.into()), "condim 6");
    unsupported(edited("cheetah", DMC_CHEETAH, |v| v["geoms"][1]["geom_priority"] = 2.into()), "priority");
    unsupported(
        edited("cheetah", DMC_CHEETAH, |v| v["geoms"][1]["solref"] = serde_json::json!([-100.0, -1.0])),
        "solref",
    );
    unsupported(edited("cheetah", DMC_CHEETAH, |v| v["geoms"][2]["type"] = "ellipsoid".into()), "ellipsoid");
    // A geom that collides with nothing may have any shape.
    let quiet = edited("cheetah", DMC_CHEETAH, |v| {
        v["geoms"][2]["type"] = "box".into();
        v["geoms"][2]["contype"] = 0.into();
        v["geoms"][2]["conaffinity"] = 0.into();
    });
    assert!(quiet.is_ok(), "{quiet:?}");
}
