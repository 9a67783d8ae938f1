//! The Gymnasium `-v4` variants of the planar tasks against their `-v5` versions (no golden data
//! exists for v4; design notes §2.11 list the differences): identical dynamics and observations
//! under the same seed and actions, and only the documented reward, `info` and model differences.

use dime_envs::{make, EnvConfig, StepOut};
use rand::{Rng, SeedableRng};

/// One step's observation, outcome and `info` terms.
type Record = (Vec<f64>, StepOut, Vec<(&'static str, f64)>);

/// Run `id` for an episode of random actions (seeded), returning every step's record.
fn episode(id: &str, seed: u64) -> Vec<Record> {
    let mut env = make(id, &EnvConfig::default()).unwrap();
    let spec = env.spec().clone();
    let mut obs = vec![0.0; spec.obs_dim];
    env.reset(Some(seed), &mut obs).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    for _ in 0..spec.max_episode_steps.min(300) {
        let action: Vec<f64> = (0..spec.act_dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let step = env.step(&action, &mut obs).unwrap();
        out.push((obs.clone(), step, env.reward_terms().to_vec()));
        if step.done() {
            break;
        }
    }
    out
}

#[test]
fn halfcheetah_v4_is_v5_with_reward_run() {
    let (v4, v5) = (episode("gym/HalfCheetah-v4", 3), episode("gym/HalfCheetah-v5", 3));
    assert_eq!(v4.len(), v5.len());
    for ((o4, s4, i4), (o5, s5, i5)) in v4.iter().zip(&v5) {
        assert_eq!((o4, s4), (o5, s5));
        let names: Vec<&str> = i4.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["x_position", "x_velocity", "reward_run", "reward_ctrl"]);
        let values = |i: &[(&str, f64)]| i.iter().map(|(_, v)| *v).collect::<Vec<f64>>();
        assert_eq!(values(i4), values(i5));
    }
}

#[test]
fn hopper_and_walker_v4_pay_the_alive_bonus_on_the_terminating_step() {
    for (v4_id, v5_id) in [("gym/Hopper-v4", "gym/Hopper-v5"), ("gym/Walker2d-v4", "gym/Walker2d-v5")] {
        for seed in 0..3 {
            let (v4, v5) = (episode(v4_id, seed), episode(v5_id, seed));
            let last = v5.len() - 1;
            assert!(v5[last].1.terminated, "{v5_id}: random actions end the episode by termination");
            // Walker2d-v4's right foot has less friction, so its episode may differ once that foot
            // slides; compare only up to the first difference in observations (Hopper: everything).
            for (t, ((o4, s4, i4), (o5, s5, _))) in v4.iter().zip(&v5).enumerate() {
                if o4 != o5 {
                    assert!(v4_id == "gym/Walker2d-v4", "{v4_id}: dynamics differ from v5 at step {t}");
                    break;
                }
                assert_eq!(s4.terminated, s5.terminated, "{v4_id} step {t}");
                // v5 pays 1 only while healthy; v4 always.
                let bonus_gap = if s5.terminated { 1.0 } else { 0.0 };
                assert_eq!(s4.reward - s5.reward, bonus_gap, "{v4_id} step {t}");
                let names: Vec<&str> = i4.iter().map(|(n, _)| *n).collect();
                assert_eq!(names, ["x_position", "x_velocity"]);
            }
            if v4_id == "gym/Hopper-v4" {
                assert_eq!(v4.len(), v5.len());
            }
        }
    }
}

#[test]
fn walker2d_v4_has_the_old_right_foot_friction() {
    use dime_envs::sim::{assets, Model};
    let v5 = Model::from_mujoco_json("v5", assets::GYM_WALKER2D).unwrap();
    let foot = |m: &Model, name: &str| m.geom_collision(m.geom_id(name).unwrap()).unwrap().friction[0];
    assert_eq!((foot(&v5, "foot_geom"), foot(&v5, "foot_left_geom")), (1.9, 1.9));
    let task = dime_envs::tasks::gym_mujoco::hopper_walker::walker2d_v4().unwrap();
    let v4 = task.physics().model();
    assert_eq!((foot(v4, "foot_geom"), foot(v4, "foot_left_geom")), (0.9, 1.9));
    // And it shows in the dynamics: a right foot that slides moves differently, so some seed must
    // diverge from v5.
    let diverged = (0..5).any(|seed| {
        let (v4, v5) = (episode("gym/Walker2d-v4", seed), episode("gym/Walker2d-v5", seed));
        v4.iter().zip(&v5).any(|(a, b)| a.0 != b.0)
    });
    assert!(diverged, "Walker2d-v4 behaves exactly like v5 on 5 seeds: is its friction changed?");
}
