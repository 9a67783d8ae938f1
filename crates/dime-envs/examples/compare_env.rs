//! Lock-step comparison of embedded tasks with their originals (what `cargo xtask compare-env`
//! runs): `compare_env ID|all [--seeds N] [--steps N] [--episodes N]`.
//!
//! For each task: one-step state errors (the original re-synced to the Rust state before every
//! step), free runs from the same initial state with the same actions (per-step error and the
//! first step past 1e-9 / 1e-6 / 1e-3), and, with `--episodes N > 0`, random-action episode
//! statistics of both (Welch 3σ on the mean, two-sample KS).

use std::process::ExitCode;

use dime_envs::python::lockstep::{compare, episode_stats, ks_test, mean_std, original_of, tolerance};
use dime_envs::{ids, make, EnvConfig};

struct Args {
    ids: Vec<String>,
    seeds: u64,
    steps: usize,
    episodes: u64,
}

fn parse() -> Result<Args, String> {
    let mut args = Args { ids: Vec::new(), seeds: 3, steps: 100, episodes: 0 };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next().ok_or(format!("{name} needs a value"))?.parse::<u64>().map_err(|e| format!("{name}: {e}"))
        };
        match a.as_str() {
            "--seeds" => args.seeds = value("--seeds")?,
            "--steps" => args.steps = value("--steps")? as usize,
            "--episodes" => args.episodes = value("--episodes")?,
            "all" => args.ids.extend(ids().into_iter().filter(|id| original_of(id).is_some()).map(String::from)),
            id if !id.starts_with("--") => args.ids.push(id.to_string()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if args.ids.is_empty() {
        return Err("usage: compare_env ID|all [--seeds N] [--steps N] [--episodes N]".into());
    }
    Ok(args)
}

fn divergence_steps(c: &dime_envs::python::lockstep::Comparison, threshold: f64) -> String {
    let steps: Vec<String> = c
        .free
        .iter()
        .map(|t| match t.divergence(threshold) {
            Some(s) => s.to_string(),
            None if t.ended_early => format!("never (ended at {})", t.steps.len()),
            None => format!("never ({})", t.steps.len()),
        })
        .collect();
    steps.join(", ")
}

fn stats(id: &str, episodes: u64) -> Result<(), String> {
    let cfg = EnvConfig::default();
    let name = original_of(id).ok_or(format!("{id} has no original"))?;
    let mut rust = make(id, &cfg).map_err(|e| e.to_string())?;
    let mut py = make(&format!("py/{name}"), &cfg).map_err(|e| e.to_string())?;
    let limit = rust.spec().max_episode_steps;
    let (rr, rl) = episode_stats(rust.as_mut(), episodes, limit).map_err(|e| e.to_string())?;
    let (pr, pl) = episode_stats(py.as_mut(), episodes, limit).map_err(|e| e.to_string())?;
    for (what, a, b) in [("return", &rr, &pr), ("length", &rl, &pl)] {
        let ((ma, sa), (mb, sb)) = (mean_std(a), mean_std(b));
        let bound = 3.0 * (sa * sa / a.len() as f64 + sb * sb / b.len() as f64).sqrt();
        let (d, p) = ks_test(a, b);
        let ok = (ma - mb).abs() <= bound.max(1e-12) && p >= 0.01;
        println!(
            "  stats {what:<6} rust {ma:.4} ± {sa:.4}  original {mb:.4} ± {sb:.4}  |Δmean| {:.3e} (3σ {bound:.3e})  KS D {d:.3} p {p:.3}  {}",
            (ma - mb).abs(),
            if ok { "ok" } else { "DIFFERENT" }
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut failed = false;
    for id in &args.ids {
        println!("== {id} (original py/{})", original_of(id).unwrap_or_default());
        let c = match compare(id, args.seeds, args.steps) {
            Ok(c) => c,
            Err(e) => {
                println!("  error: {e}");
                failed = true;
                continue;
            }
        };
        let tol = tolerance(id);
        let (median, max) = c.one_step_median_max();
        let free = c.free_max(tol.free_steps);
        let (obs, reward) = c.free_obs_reward(tol.free_steps);
        let within = if tol.exact {
            obs == 0.0 && reward == 0.0
        } else {
            median <= tol.one_step_median && max <= tol.one_step_max && free <= tol.free_run
        };
        println!(
            "  one step ({} steps): median {median:.2e}, max {max:.2e}; obs {:.2e}, reward {:.2e}",
            c.one_step.len(),
            c.one_step_obs,
            c.one_step_reward
        );
        println!(
            "  free run: max err over the first {} steps {free:.2e}; obs {obs:.2e}, reward {reward:.2e}; terminated agrees: {}",
            tol.free_steps,
            c.flags_agree()
        );
        for threshold in [1e-9, 1e-6, 1e-3] {
            println!("  first step past {threshold:.0e}: {}", divergence_steps(&c, threshold));
        }
        if let Some(t) = c.free.first() {
            let marks = [1usize, 2, 5, 10, 20, 50, 100, 200, 300];
            let errs: Vec<String> = marks
                .iter()
                .filter(|&&m| m <= t.steps.len())
                .map(|&m| format!("{m}: {:.1e}", t.steps[m - 1].state))
                .collect();
            println!("  seed 0 per-step err: {}", errs.join(", "));
        }
        println!("  envs.md tolerance: {}", if within { "met" } else { "NOT met" });
        failed |= !within;
        if args.episodes > 0 {
            if let Err(e) = stats(id, args.episodes) {
                println!("  stats error: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
