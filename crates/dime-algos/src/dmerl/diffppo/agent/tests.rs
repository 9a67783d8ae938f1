//! The centred entropy term of DiffPPO's advantage (dmerl.md §5) reads the log-ratio of the
//! sample whose ratio the surrogate takes.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;

/// With unchanged parameters, the `ℓ_k` the update's entropy term uses for a stored augmented
/// transition is the `ℓ_k` recorded when acting, for every lane and step. An ℓ of a fresh sample
/// at `(s, x_k, k)` (as this agent once computed it) is independent of the stored `x_{k+1}`, so
/// its centred term has zero expected policy gradient, and it differs from the recorded one.
#[test]
fn the_entropy_term_uses_the_log_ratio_of_the_stored_sample() {
    let (o, d) = (3, 1);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut agent = DiffPpoAgent::new(DiffPpoConfig::smoke(), o, d, &mut rng).unwrap();
    let k_steps = agent.cfg.sampler.diffusion_steps;
    let obs = [0.3f32, -0.1, 0.8, -0.5, 0.2, 0.9];
    let mut actions = [0.0f32; 2];
    agent.act_batch(&obs, 2, ActMode::Explore, &mut rng, &mut actions).unwrap();
    let mut compared = 0;
    while let Some((_, p)) = agent.lanes.next_pending() {
        let obs_rows: Vec<f32> = p.obs.repeat(k_steps);
        let steps: Vec<usize> = (0..k_steps).collect();
        let (x, x_next) = (&p.states[..k_steps * d], &p.states[d..]);
        let (obs_t, x_t, x_next_t) = (
            DiffPpoAgent::tensor(&obs_rows, k_steps).unwrap(),
            DiffPpoAgent::tensor(x, k_steps).unwrap(),
            DiffPpoAgent::tensor(x_next, k_steps).unwrap(),
        );
        let (log_pi, taken) = agent.taken_step_log_probs(&obs_t, &x_t, &steps, &x_next_t).unwrap();
        let log_pi = log_pi.to_vec1::<f32>().unwrap();
        for k in 0..k_steps {
            assert!((taken[k] - p.log_ratio[k]).abs() < 1e-4, "step {k}: {} vs {}", taken[k], p.log_ratio[k]);
            assert!((log_pi[k] - p.log_pi[k]).abs() < 1e-4, "step {k}: {} vs {}", log_pi[k], p.log_pi[k]);
            compared += 1;
        }
    }
    assert_eq!(compared, 2 * k_steps);
}
