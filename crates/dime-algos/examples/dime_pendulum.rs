//! Train DIME (cpu preset) on Pendulum without a run folder, printing each evaluation.
//! `cargo run --release -p dime-algos --example dime_pendulum -- [STEPS] [SEED] [LEARNING_STARTS]`

use std::sync::atomic::AtomicBool;

use dime_algos::dime::{DimeAgent, DimeConfig};
use dime_algos::{EvalReport, LoopConfig, Observer, Streams, Trainer};
use dime_envs::{make_unit, EnvConfig};

struct Print(std::time::Instant);
impl Observer for Print {
    fn on_eval(&mut self, r: &EvalReport) {
        let secs = self.0.elapsed().as_secs_f64();
        println!("{:>7} steps  return {:>9.2} ± {:>7.2}  {:>6.1} s", r.env_steps, r.return_mean, r.return_std, secs);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse().expect("numbers")).collect();
    let (steps, seed) = (args.first().copied().unwrap_or(15_000), args.get(1).copied().unwrap_or(0));
    let env_cfg = EnvConfig::default();
    let train = make_unit("gym/Pendulum-v1", &env_cfg)?;
    let eval = make_unit("gym/Pendulum-v1", &env_cfg)?;
    let spec = train.spec().clone();
    let mut init = Streams::new(seed).init;
    let mut agent = DimeAgent::new(DimeConfig::cpu(), spec.obs_dim, spec.act_dim, spec.reward_range, &mut init)?;
    let cfg = LoopConfig {
        total_steps: steps,
        learning_starts: args.get(2).copied().unwrap_or(5000.min(steps / 3)),
        eval_every: 1000,
        eval_episodes: 5,
        checkpoint_every: 0,
        replay_capacity: 1_000_000,
        num_envs: 1,
    };
    let mut trainer = Trainer::new(cfg, &mut agent, vec![train], eval, seed, None)?;
    trainer.run(&AtomicBool::new(false), &mut Print(std::time::Instant::now()))?;
    Ok(())
}
