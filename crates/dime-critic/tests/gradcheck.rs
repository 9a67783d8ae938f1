//! Gradient check in f64: autograd of the critic losses against central differences, through
//! the whole network (train-mode BatchRenorm on the joint batch, softmax, loss).

use candle_core::{DType, Device, Tensor};
use dime_critic::{
    categorical_td_loss, critic_target, squared_td_loss, CategoricalCritic, CriticBatch, CriticConfig, CriticHead,
    ScalarCritic, TdInputs,
};
use dime_nn::ParamStore;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const OBS: usize = 3;
const ACT: usize = 2;
const ROWS: usize = 5;

fn random(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> Tensor {
    let values: Vec<f64> = dime_nn::init::standard_normal(rng, rows * cols).iter().map(|&v| v as f64).collect();
    Tensor::from_vec(values, (rows, cols), &Device::Cpu).unwrap()
}

/// Compare `d loss / d θ` from autograd with `(L(θ + h) − L(θ − h))/2h` on a few entries of every
/// parameter tensor. Central differences have error O(h²·L''') ≈ 1e-12 here plus rounding
/// ≈ 1e-16·L/h ≈ 1e-10, so 1e-6 relative (plus 1e-8 absolute) is far above both.
fn check(store: &ParamStore, mut loss: impl FnMut() -> Tensor) {
    let grads = loss().backward().unwrap();
    let mut checked = 0;
    for (name, var) in store.iter() {
        let analytic = grads.get(var.as_tensor()).unwrap_or_else(|| panic!("{name} received no gradient"));
        let analytic = analytic.flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let base = var.as_tensor().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let n = base.len();
        for &i in &[0, n / 2, n - 1] {
            let h = 1e-6;
            let mut eval = |delta: f64| {
                let mut values = base.clone();
                values[i] += delta;
                var.set(&Tensor::from_vec(values, var.shape(), &Device::Cpu).unwrap()).unwrap();
                loss().to_scalar::<f64>().unwrap()
            };
            let numeric = (eval(h) - eval(-h)) / (2.0 * h);
            eval(0.0);
            let a = analytic[i];
            assert!(
                (a - numeric).abs() <= 1e-6 * numeric.abs().max(a.abs()) + 1e-8,
                "{name}[{i}]: autograd {a} vs {numeric}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 3 * store.len());
}

#[test]
fn categorical_critic_loss_gradient_matches_central_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let config = CriticConfig {
        hidden_widths: vec![6, 5],
        head: CriticHead::Categorical { atoms: 7, v_min: -3.0, v_max: 3.0, entropy_coef: 0.005 },
        ..CriticConfig::cpu()
    };
    let mut critic = CategoricalCritic::new(&config, OBS, ACT, &mut rng, DType::F64, &Device::Cpu).unwrap();
    let (obs, actions) = (random(&mut rng, ROWS, OBS), random(&mut rng, ROWS, ACT));
    let (next_obs, next_actions) = (random(&mut rng, ROWS, OBS), random(&mut rng, ROWS, ACT));
    let rewards = [0.5f32, -1.0, 2.0, 0.0, 1.5];
    let continues = [1.0f32, 1.0, 0.0, 1.0, 1.0];
    let bound = [0.3f32, -0.2, 0.1, 1.0, -0.7];
    let td = TdInputs { rewards: &rewards, continues: &continues, next_log_prob: &bound, alpha: 0.5, gamma: 0.9 };
    let batch = CriticBatch { obs: &obs, actions: &actions, next_obs: &next_obs, next_actions: &next_actions, td };
    // The target is under a stop-gradient (dime.md §5.4), so it is held fixed at its value for
    // the unperturbed parameters; the loss is then a function of θ through p_i(s, a) only
    // (including the batch statistics, which also cover the next half). Before BRN's warm-up the
    // train-mode output does not depend on the running statistics, so repeated calls agree.
    let next = critic.joint_forward(&batch).unwrap().next;
    let target = critic_target(critic.support(), &next, &td).unwrap();
    let store = critic.params().clone();
    check(&store, || {
        let joint = critic.joint_forward(&batch).unwrap();
        categorical_td_loss(&joint.current, &target, 0.005).unwrap()
    });
}

#[test]
fn crossq_scalar_loss_gradient_matches_central_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let config = CriticConfig { hidden_widths: vec![6, 5], ..CriticConfig::crossq() };
    let mut critic = ScalarCritic::new(&config, OBS, ACT, &mut rng, DType::F64, &Device::Cpu).unwrap();
    let (obs, actions) = (random(&mut rng, ROWS, OBS), random(&mut rng, ROWS, ACT));
    let (next_obs, next_actions) = (random(&mut rng, ROWS, OBS), random(&mut rng, ROWS, ACT));
    let rewards = [0.5f32, -1.0, 2.0, 0.0, 1.5];
    let y = Tensor::new(&[1.0f64, -0.5, 2.0, 0.3, 0.0], &Device::Cpu).unwrap();
    let td =
        TdInputs { rewards: &rewards, continues: &[1.0; ROWS], next_log_prob: &[0.0; ROWS], alpha: 0.2, gamma: 0.9 };
    let batch = CriticBatch { obs: &obs, actions: &actions, next_obs: &next_obs, next_actions: &next_actions, td };
    let store = critic.params().clone();
    check(&store, || squared_td_loss(&critic.joint_forward(&batch).unwrap().current, &y).unwrap());
}
