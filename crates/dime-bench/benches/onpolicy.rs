//! On-policy throughput (issue 8): environment steps per second of PPO and DiffPPO (cpu presets)
//! on the real `gym/Pendulum-v1`, with the wall time split into environment stepping, acting
//! (DiffPPO: the K kernels of the chain and the value of each augmented state) and learning
//! (storing transitions and the rollout updates). The target is stepping under 10% of
//! the total.
//!
//! Both agents run on one environment, as `dime train` runs them: the multi-lane on-policy loop
//! (many environments stepped together on the second core) is not built yet, so the figure is the
//! single-environment one. Each case runs two full rollouts (2 × 2048 environment steps).
//!
//! `cargo bench -p dime-bench --bench onpolicy`

use std::time::{Duration, Instant};

use dime_algos::dmerl::diffppo::{DiffPpoAgent, DiffPpoConfig};
use dime_algos::ppo::{PpoAgent, PpoConfig};
use dime_algos::{ActMode, Agent, ReplayBuffer, Transition};
use dime_envs::{make_unit, EnvConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The allocator of the `dime` binary, so that allocation costs are the ones users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TASK: &str = "gym/Pendulum-v1";

/// Time spent in each part of the loop.
#[derive(Default)]
struct Split {
    step: Duration,
    act: Duration,
    learn: Duration,
}

/// Run `agent` for `steps` environment steps the way the training loop does (act, step, store,
/// update) and time each part.
fn run(agent: &mut dyn Agent, steps: usize) -> Split {
    let mut env = make_unit(TASK, &EnvConfig::default()).expect("task");
    let (o, a) = (env.spec().obs_dim, env.spec().act_dim);
    let mut replay = ReplayBuffer::new(o, a, 1).expect("buffer");
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (mut obs, mut next) = (vec![0.0f64; o], vec![0.0f64; o]);
    let mut action = vec![0.0f32; a];
    let mut split = Split::default();
    env.reset(Some(0), &mut obs).expect("reset");
    for _ in 0..steps {
        let t0 = Instant::now();
        let obs32: Vec<f32> = obs.iter().map(|&v| v as f32).collect();
        agent.act(&obs32, ActMode::Explore, &mut rng, &mut action).expect("act");
        let t1 = Instant::now();
        let native: Vec<f64> = action.iter().map(|&v| f64::from(v)).collect();
        let out = env.step(&native, &mut next).expect("step");
        let t2 = Instant::now();
        let next32: Vec<f32> = next.iter().map(|&v| v as f32).collect();
        let reward = out.reward as f32;
        let (terminated, truncated) = (out.terminated, out.truncated);
        let t = Transition { obs: &obs32, action: &action, reward, next_obs: &next32, terminated, truncated };
        replay.push(t).expect("push");
        agent.update(&replay, &mut rng).expect("update");
        let t3 = Instant::now();
        if terminated || truncated {
            env.reset(None, &mut obs).expect("reset");
        } else {
            std::mem::swap(&mut obs, &mut next);
        }
        let t4 = Instant::now();
        split.act += t1 - t0;
        split.step += (t2 - t1) + (t4 - t3);
        split.learn += t3 - t2;
    }
    split
}

fn report(name: &str, split: &Split, steps: usize) {
    let total = (split.step + split.act + split.learn).as_secs_f64();
    let share = |d: Duration| 100.0 * d.as_secs_f64() / total;
    println!(
        "{name:<28} {:>8.0} env steps/s; stepping {:.3}%, acting {:.1}%, learning {:.1}% of {:.2} s",
        steps as f64 / total,
        share(split.step),
        share(split.act),
        share(split.learn),
        total
    );
}

fn main() {
    let steps = 2 * 2048;
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).expect("task");
    let mut init = ChaCha8Rng::seed_from_u64(1);
    let mut ppo = PpoAgent::new(PpoConfig::cpu(), spec.obs_dim, spec.act_dim, &mut init).expect("PPO agent");
    report("ppo cpu, Pendulum", &run(&mut ppo, steps), steps);
    let mut diffppo =
        DiffPpoAgent::new(DiffPpoConfig::cpu(), spec.obs_dim, spec.act_dim, &mut init).expect("DiffPPO agent");
    report("diffppo cpu, Pendulum", &run(&mut diffppo, steps), steps);
}
