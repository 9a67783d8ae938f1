//! The host actor against candle autograd through `TanhGaussianActor::sample` on the same
//! parameters and noise: actions, log-densities and every parameter's gradient of a loss
//! `Σ c_a ⊙ a + Σ c_ℓ ⊙ log π` with random coefficients, for both log-std bounds.

use candle_core::{Device, Tensor};
use dime_critic::ForwardMode;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{ActorTape, HostActor};
use crate::sac::config::{LogStdBound, SacConfig};
use crate::sac::TanhGaussianActor;

const OBS: usize = 4;
const ACT: usize = 3;
const ROWS: usize = 37;

fn check(bound: LogStdBound, seed: u64) {
    let mut cfg = SacConfig::cpu().actor;
    cfg.hidden_widths = vec![48, 40];
    cfg.log_std = bound;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut actor = TanhGaussianActor::new(cfg, OBS, ACT, &mut rng).unwrap();
    // Spread the inputs so that some log-std values hit the clip bounds.
    let obs: Vec<f32> = dime_nn::init::standard_normal(&mut rng, ROWS * OBS).iter().map(|v| 3.0 * v).collect();
    let noise = actor.draw_noise(&mut rng, ROWS).unwrap();
    let coef_action = dime_nn::init::standard_normal(&mut rng, ROWS * ACT);
    let coef_log_prob = dime_nn::init::standard_normal(&mut rng, ROWS);

    let obs_t = Tensor::from_vec(obs.clone(), (ROWS, OBS), &Device::Cpu).unwrap();
    let sample = actor.sample(&obs_t, &noise, ForwardMode::Train).unwrap();
    let c_a = Tensor::from_vec(coef_action.clone(), (ROWS, ACT), &Device::Cpu).unwrap();
    let c_l = Tensor::from_vec(coef_log_prob.clone(), ROWS, &Device::Cpu).unwrap();
    let loss = ((&sample.action * &c_a).unwrap().sum_all().unwrap()
        + (&sample.log_prob * &c_l).unwrap().sum_all().unwrap())
    .unwrap();
    let expected = dime_nn::host_gradients(actor.params(), &loss.backward().unwrap()).unwrap();

    let host = HostActor::new(&actor).unwrap().expect("no normalisation, f32 on the CPU");
    let mut tape = ActorTape::default();
    let noise_host = noise.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    host.forward(&obs, &noise_host, &mut tape);
    let close = |a: &[f32], b: &[f32], tol: f32, what: &str| {
        let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tol * y.abs().max(scale).max(1e-6), "{what}[{i}]: host {x} vs candle {y}");
        }
    };
    close(&tape.action, &sample.action.flatten_all().unwrap().to_vec1::<f32>().unwrap(), 1e-5, "action");
    close(&tape.log_prob, &sample.log_prob.to_vec1::<f32>().unwrap(), 1e-5, "log π");
    let grads = host.backward(&actor, &tape, &coef_action, &coef_log_prob).unwrap();
    assert_eq!(grads.len(), expected.len());
    for ((name, g), e) in actor.params().names().iter().zip(&grads).zip(&expected) {
        assert!(e.iter().any(|v| *v != 0.0), "{name} has a gradient");
        close(g, e, 1e-4, name);
    }
}

#[test]
fn host_actor_matches_candle_autograd_with_the_tanh_squash_bound() {
    check(LogStdBound::TanhSquash { min: -5.0, max: 2.0 }, 1);
}

#[test]
fn host_actor_matches_candle_autograd_with_the_clip_bound() {
    check(LogStdBound::Clip { min: -1.0, max: 0.5 }, 2);
}

#[test]
fn normalised_actors_take_the_candle_path() {
    let cfg = crate::crossq::preset("cpu").expect("CrossQ cpu preset").actor;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let actor = TanhGaussianActor::new(cfg, OBS, ACT, &mut rng).unwrap();
    assert!(HostActor::new(&actor).unwrap().is_none());
}
