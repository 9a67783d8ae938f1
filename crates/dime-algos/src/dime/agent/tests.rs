//! The CPU fast path of the actor update against the autograd path on the same inputs.

use candle_core::{Device, Tensor};
use dime_diffusion::OutputInit;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::DimeAgent;
use crate::dime::DimeConfig;

#[test]
fn host_actor_pass_equals_the_autograd_pass() {
    let mut cfg = DimeConfig::smoke();
    cfg.sampler.score_net.output_init = OutputInit::LecunNormal;
    let (obs_dim, act_dim, rows) = (5, 2, 24);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut agent = DimeAgent::new(cfg, obs_dim, act_dim, (-2.0, 0.0), &mut rng).unwrap();
    let values = dime_nn::init::standard_normal(&mut rng, rows * obs_dim);
    let obs = Tensor::from_vec(values, (rows, obs_dim), &Device::Cpu).unwrap();
    let noise = agent.policy.draw_noise(&mut rng, rows).unwrap();
    let alpha = 0.3;
    let (loss_g, bound_g, run_g, grads_g) = agent.actor_gradients_graph(&obs, &noise, alpha).unwrap();
    let (loss_h, bound_h, run_h, grads_h) = agent.actor_gradients_host(&obs, &noise, alpha).unwrap();
    for (what, h, g) in [("loss", loss_h, loss_g), ("mean ℓ", bound_h, bound_g), ("mean ℓ_run", run_h, run_g)] {
        assert!((h - g).abs() <= 1e-5 * g.abs().max(1.0), "{what}: host {h} vs graph {g}");
    }
    for ((name, _), (h, g)) in agent.policy.params().iter().zip(grads_h.iter().zip(&grads_g)) {
        let scale = g.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
        let err = h.iter().zip(g).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max) / scale;
        assert!(err < 1e-4, "gradient of {name}: scaled error {err:e}");
    }
}
