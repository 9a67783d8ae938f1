//! `Adam::step_in_place` against `Adam::step` (host slices): the same f32 arithmetic, so
//! bitwise-equal parameters after several steps, in f32 and f64, including a variable without
//! gradient; and a restored optimiser continues exactly.

use candle_core::{DType, Device, Tensor};
use dime_nn::{host_gradients, Adam, AdamConfig, ParamStore};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn store(dtype: DType) -> ParamStore {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut store = ParamStore::new();
    store.insert_host("a", dime_nn::init::standard_normal(&mut rng, 12), &[3, 4], dtype, &Device::Cpu).unwrap();
    store.insert_host("b", dime_nn::init::standard_normal(&mut rng, 5), &[5], dtype, &Device::Cpu).unwrap();
    store.insert_host("unused", vec![0.5, -0.5], &[2], dtype, &Device::Cpu).unwrap();
    store
}

/// A loss touching "a" (through a transposed view, so its gradient comes out of a matmul) and
/// "b", but not "unused".
fn loss(store: &ParamStore, step: usize) -> Tensor {
    let a = store.get("a").unwrap().as_tensor();
    let b = store.get("b").unwrap().as_tensor();
    let x = Tensor::ones((2, 3), a.dtype(), &Device::Cpu).unwrap();
    let y = x.matmul(a).unwrap().sqr().unwrap().sum_all().unwrap();
    (y + (b * (step as f64 + 1.0)).unwrap().sin().unwrap().sum_all().unwrap()).unwrap()
}

#[test]
fn in_place_step_equals_host_step_bitwise() {
    for dtype in [DType::F32, DType::F64] {
        let config = AdamConfig::new(3e-2, 0.5);
        let (ours, reference) = (store(dtype), store(dtype));
        let mut fused = Adam::new(&ours, config);
        let mut host = Adam::new(&reference, config);
        for step in 0..5 {
            fused.step_in_place(&ours, &loss(&ours, step).backward().unwrap()).unwrap();
            let grads = loss(&reference, step).backward().unwrap();
            host.step(&reference, &host_gradients(&reference, &grads).unwrap()).unwrap();
        }
        assert_eq!(fused.steps(), 5);
        assert_eq!(ours.to_host().unwrap(), reference.to_host().unwrap(), "{dtype:?}");
        assert_ne!(ours.to_host().unwrap(), store(dtype).to_host().unwrap(), "the parameters moved");
    }
}

#[test]
fn in_place_step_rejects_a_different_store() {
    let mut fused = Adam::new(&store(DType::F32), AdamConfig::new(1e-3, 0.9));
    let mut other = ParamStore::new();
    other.insert_host("z", vec![1.0], &[1], DType::F32, &Device::Cpu).unwrap();
    let grads = other.get("z").unwrap().as_tensor().sum_all().unwrap().backward().unwrap();
    assert!(fused.step_in_place(&other, &grads).is_err());
}

#[test]
fn restored_state_continues_exactly() {
    // Two runs: 5 uninterrupted steps, and 3 steps, a restore into a fresh optimiser, 2 more.
    let config = AdamConfig::new(1e-2, 0.5);
    let (straight, resumed) = (store(DType::F32), store(DType::F32));
    let mut a = Adam::new(&straight, config);
    for step in 0..5 {
        a.step_in_place(&straight, &loss(&straight, step).backward().unwrap()).unwrap();
    }
    let mut b = Adam::new(&resumed, config);
    for step in 0..3 {
        b.step_in_place(&resumed, &loss(&resumed, step).backward().unwrap()).unwrap();
    }
    let (first, second) = b.moments();
    let mut c = Adam::new(&resumed, config);
    c.restore(first.to_vec(), second.to_vec(), b.steps()).unwrap();
    for step in 3..5 {
        c.step_in_place(&resumed, &loss(&resumed, step).backward().unwrap()).unwrap();
    }
    assert_eq!(straight.to_host().unwrap(), resumed.to_host().unwrap());
    assert!(c.restore(vec![vec![0.0]], vec![vec![0.0]], 1).is_err());
}

#[test]
fn chunked_parallel_step_equals_one_pass_bitwise() {
    // 300 000 elements: above the size the CPU kernels split across threads. On the calling
    // thread the step runs in parallel chunks (when more than one CPU thread is configured);
    // inside a rayon task it runs as one pass. Both paths, in place and from host slices.
    let n = 300_000;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let start = dime_nn::init::standard_normal(&mut rng, n);
    let grads: Vec<Vec<f32>> = (0..3).map(|_| dime_nn::init::standard_normal(&mut rng, n)).collect();
    let run = |in_task: bool, in_place: bool| {
        let mut store = ParamStore::new();
        store.insert_host("w", start.clone(), &[n], DType::F32, &Device::Cpu).unwrap();
        let mut adam = Adam::new(&store, AdamConfig::new(1e-3, 0.9));
        let mut steps = || {
            for g in &grads {
                if in_place {
                    let var = store.get("w").unwrap().as_tensor().clone();
                    let loss = (&var * Tensor::from_slice(g, n, &Device::Cpu).unwrap()).unwrap().sum_all().unwrap();
                    adam.step_in_place(&store, &loss.backward().unwrap()).unwrap();
                } else {
                    adam.step(&store, std::slice::from_ref(g)).unwrap();
                }
            }
        };
        match in_task {
            true => rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(steps),
            false => steps(),
        }
        store.to_host().unwrap()
    };
    for in_place in [false, true] {
        let (chunked, one_pass) = (run(false, in_place), run(true, in_place));
        assert_eq!(chunked, one_pass, "in place: {in_place}");
        assert_ne!(chunked[0].1, start, "the parameters moved");
    }
}
