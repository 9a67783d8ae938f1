//! Interleaved minima of the host actor update and its same-MAC matmul baseline (a probe that
//! is robust to a noisy machine; the criterion bench `diffusion` is the figure of record).
use candle_core::{DType, Device, Tensor};
use dime_diffusion::{DiffusionPolicy, SamplerConfig, Tape};
use dime_nn::clip::{clip_elementwise, zero_nans};
use dime_nn::{Adam, AdamConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    dime_nn::flush_denormals();
    let (o, d, b) = (17usize, 6usize, 256usize);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let policy = DiffusionPolicy::new(SamplerConfig::paper(), o, d, &mut rng, DType::F32, &Device::Cpu).unwrap();
    let mut adam = Adam::new(policy.params(), AdamConfig::new(3e-4, 0.5));
    let obs = dime_nn::init::standard_normal(&mut rng, b * o);
    let mut tape = Tape::default();
    let mut update = || {
        let noise = policy.draw_noise(&mut rng, b).unwrap();
        let chain = policy.host_chain().unwrap();
        policy.forward_host(&chain, &obs, &noise, true, &mut tape).unwrap();
        let (da, dl) = (vec![1.0 / b as f32; b * d], vec![1.0 / b as f32; b]);
        let mut grads = policy.host_gradients(&chain, &mut tape, &da, &dl).unwrap();
        zero_nans(&mut grads);
        clip_elementwise(&mut grads, 1.0);
        adam.step(policy.params(), &grads).unwrap();
    };
    let mut r2 = ChaCha8Rng::seed_from_u64(3);
    let sq = Tensor::from_vec(dime_nn::init::standard_normal(&mut r2, 65536), (256, 256), &Device::Cpu).unwrap();
    let baseline = || {
        for _ in 0..99 {
            std::hint::black_box(sq.matmul(&sq).unwrap());
        }
    };
    let (mut best_u, mut best_b) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        update();
    }
    for _ in 0..25 {
        let t = Instant::now();
        update();
        best_u = best_u.min(t.elapsed().as_secs_f64());
        if std::env::var_os("ONLY_UPDATE").is_some() {
            continue;
        }
        let t = Instant::now();
        baseline();
        best_b = best_b.min(t.elapsed().as_secs_f64());
    }
    println!("host update {:.1} ms, baseline {:.1} ms, efficiency {:.3}", best_u * 1e3, best_b * 1e3, best_b / best_u);
}
