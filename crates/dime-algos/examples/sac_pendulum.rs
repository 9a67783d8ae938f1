//! Train SAC or CrossQ (cpu preset) on Pendulum without a run folder, printing each evaluation.
//! `cargo run --release -p dime-algos --example sac_pendulum -- [sac|crossq] [STEPS] [SEED] [LEARNING_STARTS]`

use std::sync::atomic::AtomicBool;

use dime_algos::sac::{SacAgent, SacConfig};
use dime_algos::{crossq, EvalReport, LoopConfig, Observer, Streams, Trainer};
use dime_envs::{make_unit, EnvConfig};

struct Print(std::time::Instant);
impl Observer for Print {
    fn on_eval(&mut self, r: &EvalReport) {
        let secs = self.0.elapsed().as_secs_f64();
        println!("{:>7} steps  return {:>9.2} ± {:>7.2}  {:>6.1} s", r.env_steps, r.return_mean, r.return_std, secs);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let cfg = match args.next().as_deref() {
        None | Some("sac") => SacConfig::cpu(),
        Some("crossq") => crossq::cpu(),
        Some(other) => return Err(format!("unknown algorithm `{other}`; use sac or crossq").into()),
    };
    let numbers: Vec<u64> = args.map(|a| a.parse()).collect::<Result<_, _>>()?;
    let (steps, seed) = (numbers.first().copied().unwrap_or(20_000), numbers.get(1).copied().unwrap_or(0));
    let env_cfg = EnvConfig::default();
    let train = make_unit("gym/Pendulum-v1", &env_cfg)?;
    let eval = make_unit("gym/Pendulum-v1", &env_cfg)?;
    let spec = train.spec().clone();
    let mut init = Streams::new(seed).init;
    let mut agent = SacAgent::new(cfg, spec.obs_dim, spec.act_dim, &mut init)?;
    let cfg = LoopConfig {
        total_steps: steps,
        learning_starts: numbers.get(2).copied().unwrap_or(5000.min(steps / 3)),
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
