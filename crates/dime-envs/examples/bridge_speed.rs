//! Steps per second through the Python bridge next to plain Python on the same task, in the
//! same interpreter: `bridge_speed [N] [ID...]` (ids without the `py/` prefix).
//! Uniform random actions, resets included; best of three rounds each, interleaved.

use std::time::Instant;

use dime_envs::python::PyEnv;
use dime_envs::{Env, EnvConfig};
use pyo3::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn bridge(env: &mut PyEnv, actions: &[Vec<f64>]) -> f64 {
    let mut obs = vec![0.0; env.spec().obs_dim];
    env.reset(Some(0), &mut obs).expect("reset");
    let start = Instant::now();
    for a in actions {
        if env.step(a, &mut obs).expect("step").done() {
            env.reset(None, &mut obs).expect("reset");
        }
    }
    actions.len() as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = match args.first().and_then(|a| a.parse().ok()) {
        Some(n) => {
            args.remove(0);
            n
        }
        None => 3000,
    };
    if args.is_empty() {
        args = ["Pendulum-v1", "Hopper-v5", "dm_control/cheetah-run", "myoElbowPose1D6MRandom-v0"]
            .map(String::from)
            .to_vec();
    }
    println!("| task | bridge steps/s | plain Python steps/s | bridge / plain |\n| --- | --- | --- | --- |");
    for name in &args {
        let mut env = match PyEnv::new(name, &format!("py/{name}"), &EnvConfig::default()) {
            Ok(env) => env,
            Err(e) => {
                println!("| {name} | error: {e} | | |");
                continue;
            }
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let spec = env.spec().clone();
        let actions: Vec<Vec<f64>> = (0..n)
            .map(|_| spec.act_low.iter().zip(&spec.act_high).map(|(l, h)| rng.random_range(*l..=*h)).collect())
            .collect();
        let (mut best_bridge, mut best_plain) = (0.0f64, 0.0f64);
        for _ in 0..3 {
            best_bridge = best_bridge.max(bridge(&mut env, &actions));
            let plain: f64 = Python::attach(|py| {
                let module = py.import("dime_bridge").expect("bridge module loaded");
                module.call_method1("plain_steps_per_second", (name.as_str(), n)).and_then(|v| v.extract())
            })
            .expect("plain Python run");
            best_plain = best_plain.max(plain);
        }
        println!("| {name} | {best_bridge:.0} | {best_plain:.0} | {:.2} |", best_bridge / best_plain);
    }
}
