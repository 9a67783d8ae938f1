//! CrossQ (the SAC agent with CrossQ's settings) in the training loop (smoke preset, Pendulum):
//! update counts with the plain policy delay, BatchRenorm statistics in actor and critic, no
//! target networks, determinism and exact resume with the normalisation state in the checkpoint.

mod common;

use common::{metrics_without_wall_time, trainer, TASK};

use std::sync::atomic::AtomicBool;

use dime_algos::run::{AgentConfig, Algo, RunConfig};
use dime_algos::sac::{LogStdBound, PolicySchedule, SacAgent, SacConfig};
use dime_algos::{crossq, Silent, Streams};
use dime_critic::{Bootstrap, Normalisation};
use dime_envs::EnvConfig;
use dime_nn::ParamStore;

fn agent(seed: u64) -> SacAgent {
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).unwrap();
    let mut init = Streams::new(seed).init;
    SacAgent::new(crossq::smoke(), spec.obs_dim, spec.act_dim, &mut init).unwrap()
}

fn checksum(store: &ParamStore) -> Vec<u32> {
    common::params_checksum(&[store])
}

/// Parameters and BatchRenorm running statistics of actor and critic.
fn state_checksum(agent: &SacAgent) -> Vec<u32> {
    let mut bits = checksum(agent.actor().params());
    bits.extend(checksum(agent.critic().params()));
    let mut norms = agent.actor().batch_renorms();
    norms.extend(agent.critic().batch_renorms(0));
    norms.extend(agent.critic().batch_renorms(1));
    for n in norms {
        for t in [n.running_mean(), n.running_var()] {
            bits.extend(t.flatten_all().unwrap().to_vec1::<f32>().unwrap().iter().map(|x| x.to_bits()));
        }
        bits.push(n.steps() as u32);
    }
    bits
}

#[test]
fn the_presets_are_crossq_and_differ_from_sac_only_in_crossq_settings() {
    let (c, s) = (crossq::paper(), SacConfig::paper());
    assert_eq!(c.critic.hidden_widths, vec![2048, 2048]);
    assert_eq!(c.critic.bootstrap, Bootstrap::JointForward);
    assert!(matches!(c.critic.normalisation, Normalisation::BatchRenorm(_)));
    assert!(matches!(c.actor.normalisation, Normalisation::BatchRenorm(_)));
    assert_eq!(c.actor.log_std, LogStdBound::Clip { min: -20.0, max: 2.0 });
    assert_eq!(c.policy_schedule, PolicySchedule::Delayed { every: 3 });
    assert_eq!((c.actor_adam.lr, c.actor_adam.beta1), (1e-3, 0.5));
    assert_eq!((c.batch_size, c.updates_per_step, c.gamma), (s.batch_size, s.updates_per_step, s.gamma));
    assert_eq!(crossq::cpu().critic.hidden_widths, vec![256, 256]);
    let run = RunConfig::from_preset(Algo::parse("crossq").unwrap(), "cpu", TASK, 0, 100).unwrap();
    assert!(matches!(run.agent, AgentConfig::Crossq(_)));
    assert_eq!(run.algo(), Algo::Crossq);
    assert_eq!(RunConfig::from_toml(&run.to_toml()).unwrap(), run);
}

#[test]
fn update_counts_follow_the_plain_policy_delay_and_batch_renorm_moves_once_per_train_call() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = agent(0);
    assert!(a.critic().target_params().is_none(), "CrossQ has no target networks");
    trainer(&mut a, 0, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    // 200 env steps after warm-up × UTD 1; actor and α after critic updates 3, 6, …, 198: 66.
    assert_eq!(a.critic_updates(), 200);
    assert_eq!(a.actor_updates(), 66);
    assert_eq!(a.temperature_updates(), 66);
    // Critic BRN: one train-mode joint pass per critic update; actor BRN: one per actor update
    // (sampling a' for the target, acting and the actor's use inside the critic are eval mode).
    let critic_norms = a.critic().batch_renorms(0);
    assert_eq!(critic_norms.len(), 3, "input and after each of the two hidden layers");
    assert!(critic_norms.iter().all(|n| n.steps() == 200));
    let actor_norms = a.actor().batch_renorms();
    assert_eq!(actor_norms.len(), 3);
    assert!(actor_norms.iter().all(|n| n.steps() == 66));
    let rows = metrics_without_wall_time(dir.path());
    assert_eq!(rows.len(), 4);
    assert!(!rows[3].contains("NaN"), "{}", rows[3]);
}

#[test]
fn same_seed_gives_identical_runs_and_an_interrupted_run_resumes_exactly() {
    common::assert_seeded_runs(&common::loop_cfg(), agent, state_checksum);
    // Stop between two actor updates (critic update 122 of the period 120, 123).
    let (reference, second) = common::assert_resumes_exactly(&common::loop_cfg(), 222, agent, state_checksum);
    assert_eq!(reference.alpha().unwrap().to_bits(), second.alpha().unwrap().to_bits());
}
