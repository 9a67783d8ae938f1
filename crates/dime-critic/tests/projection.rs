//! The C51 projection (dime.md §5.5): a hand-worked example, mass conservation, batched versus a
//! scalar reference, and typed errors on bad input.

use dime_critic::{critic_target, project_onto_atoms, shifted_atoms, CriticError, Support, TdInputs};
use proptest::prelude::*;

/// Scalar reference in f64, written differently from the crate: C51's split onto the two
/// neighbouring atoms is the triangle kernel `P[k] = Σ_j p_j·max(0, 1 − |b_j − k|)` with
/// `b_j = (clip(r + m·γ·(z_j − α·ℓ)) − v_min)/Δz` (an integer b_j puts all mass on atom b_j,
/// which is exactly what the l/u edge cases of §5.5 achieve).
fn reference_projection(support: &Support, p: &[f32], r: f32, m: f32, ell: f32, alpha: f32, gamma: f32) -> Vec<f64> {
    let n = support.atoms();
    let mut out = vec![0.0; n];
    for (j, &z) in support.values().iter().enumerate() {
        let (m, gamma, alpha) = (m as f64, gamma as f64, alpha as f64);
        let tz = (r as f64 + m * gamma * (z as f64 - alpha * ell as f64)).clamp(support.v_min(), support.v_max());
        let b = (tz - support.v_min()) / support.delta();
        for (k, o) in out.iter_mut().enumerate() {
            *o += p[j] as f64 * (1.0 - (b - k as f64).abs()).max(0.0);
        }
    }
    out
}

#[test]
fn hand_worked_three_atom_example() {
    // Support z = (−1, 0, 1), Δz = 1. One transition: r = 0.25, m = 1, γ = 0.5, α = 0.5, ℓ = 0.5,
    // next distribution p = (0.2, 0.3, 0.5).
    // T z_j = r + m·γ·(z_j − α·ℓ) = 0.25 + 0.5·(z_j − 0.25) = 0.125 + 0.5·z_j = (−0.375, 0.125, 0.625).
    // b_j = T z_j + 1 = (0.625, 1.125, 1.625); l = (0, 1, 1), u = (1, 2, 2).
    // Atom 0: 0.2·(1 − 0.625) = 0.075.
    // Atom 1: 0.2·0.625 + 0.3·(2 − 1.125) + 0.5·(2 − 1.625) = 0.125 + 0.2625 + 0.1875 = 0.575.
    // Atom 2: 0.3·0.125 + 0.5·0.625 = 0.0375 + 0.3125 = 0.35.   Sum 1.0.
    // Every number here is a short binary fraction, so f32 gets them exactly.
    let support = Support::new(-1.0, 1.0, 3).unwrap();
    let td = TdInputs { rewards: &[0.25], continues: &[1.0], next_log_prob: &[0.5], alpha: 0.5, gamma: 0.5 };
    let shifted = shifted_atoms(&support, &td).unwrap();
    assert_eq!(shifted, vec![-0.375, 0.125, 0.625]);
    let projected = project_onto_atoms(&support, &[0.2, 0.3, 0.5], &shifted).unwrap();
    let expected = [0.075, 0.575, 0.35];
    for (p, e) in projected.iter().zip(expected) {
        assert!((p - e).abs() < 1e-7, "{projected:?}");
    }

    // Terminal with r = 1 = v_max: b = 2 for every atom, integer and > 0 → l = 1, u = 2, so all
    // mass lands on atom 2 (weight b − l = 1). r = −1: b = 0 → l = 0, u = 1, all mass on atom 0.
    for (r, atom) in [(1.0f32, 2), (-1.0, 0)] {
        let td = TdInputs { rewards: &[r], continues: &[0.0], next_log_prob: &[0.5], alpha: 0.5, gamma: 0.5 };
        let projected = project_onto_atoms(&support, &[0.2, 0.3, 0.5], &shifted_atoms(&support, &td).unwrap()).unwrap();
        let mut expected = [0.0f32; 3];
        expected[atom] = 1.0;
        assert_eq!(projected, expected, "r = {r}");
    }
}

#[test]
fn critic_target_averages_the_members_projections() {
    // Two members with point masses on atoms 0 and 2 of z = (−1, 0, 1); terminal with r = 0.5:
    // every atom shifts to 0.5 (b = 1.5), so each member projects to (0, 0.5, 0.5) and so does
    // the average. With m = 1, γ = 1, α = 0, r = 0 the projection is the identity, so the target
    // is the member average (0.5, 0, 0.5).
    let support = Support::new(-1.0, 1.0, 3).unwrap();
    let members = [
        candle_core::Tensor::new(&[[1.0f32, 0.0, 0.0]], &candle_core::Device::Cpu).unwrap(),
        candle_core::Tensor::new(&[[0.0f32, 0.0, 1.0]], &candle_core::Device::Cpu).unwrap(),
    ];
    let terminal = TdInputs { rewards: &[0.5], continues: &[0.0], next_log_prob: &[0.0], alpha: 0.0, gamma: 1.0 };
    let target = critic_target(&support, &members, &terminal).unwrap().to_vec2::<f32>().unwrap();
    assert_eq!(target, vec![vec![0.0, 0.5, 0.5]]);
    let identity = TdInputs { rewards: &[0.0], continues: &[1.0], next_log_prob: &[0.0], alpha: 0.0, gamma: 1.0 };
    let target = critic_target(&support, &members, &identity).unwrap().to_vec2::<f32>().unwrap();
    assert_eq!(target, vec![vec![0.5, 0.0, 0.5]]);
}

#[test]
fn bad_input_gives_typed_errors() {
    assert!(matches!(Support::new(1.0, -1.0, 11), Err(CriticError::InvalidSupport { .. })));
    assert!(matches!(Support::new(-1.0, -1.0, 11), Err(CriticError::InvalidSupport { .. })));
    assert!(matches!(Support::new(-1.0, 1.0, 0), Err(CriticError::InvalidSupport { .. })));
    assert!(matches!(Support::new(-1.0, 1.0, 1), Err(CriticError::InvalidSupport { .. })));
    assert!(matches!(Support::new(f64::NAN, 1.0, 5), Err(CriticError::InvalidSupport { .. })));
    let support = Support::new(-1.0, 1.0, 3).unwrap();
    let nan = TdInputs {
        rewards: &[0.0, f32::NAN],
        continues: &[1.0, 1.0],
        next_log_prob: &[0.0, 0.0],
        alpha: 0.1,
        gamma: 0.9,
    };
    assert!(matches!(shifted_atoms(&support, &nan), Err(CriticError::NonFinite { what: "rewards", index: 1, .. })));
    let inf = TdInputs { rewards: &[0.0], continues: &[1.0], next_log_prob: &[f32::INFINITY], alpha: 0.1, gamma: 0.9 };
    assert!(matches!(shifted_atoms(&support, &inf), Err(CriticError::NonFinite { .. })));
    let short =
        TdInputs { rewards: &[0.0, 1.0], continues: &[1.0], next_log_prob: &[0.0, 0.0], alpha: 0.1, gamma: 0.9 };
    assert!(matches!(shifted_atoms(&support, &short), Err(CriticError::Shape { .. })));
    assert!(matches!(project_onto_atoms(&support, &[0.5, 0.5], &[0.0, 0.0]), Err(CriticError::Shape { .. })));
    assert!(matches!(project_onto_atoms(&support, &[0.2, 0.3, 0.5], &[0.0, 0.0]), Err(CriticError::Shape { .. })));
}

/// A random batch: support, normalised next distributions and TD inputs whose targets reach well
/// outside the support, with terminal rows mixed in.
#[allow(clippy::type_complexity)]
fn batch() -> impl Strategy<Value = (Support, Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>, f32, f32)> {
    (2usize..40, -50.0f64..50.0, 0.1f64..100.0, 1usize..6).prop_flat_map(|(atoms, v_min, width, rows)| {
        let support = Support::new(v_min, v_min + width, atoms).unwrap();
        (
            Just(support),
            proptest::collection::vec(0.0f32..1.0, rows * atoms),
            proptest::collection::vec(-300.0f32..300.0, rows),
            proptest::collection::vec(prop_oneof![Just(0.0f32), Just(1.0f32)], rows),
            proptest::collection::vec(-50.0f32..50.0, rows),
            0.0f32..2.0,
            0.0f32..1.0,
        )
    })
}

fn normalise_rows(weights: &mut [f32], atoms: usize) {
    for row in weights.chunks_mut(atoms) {
        let total: f32 = row.iter().sum::<f32>() + 1e-6;
        row.iter_mut().for_each(|w| *w = (*w + 1e-6 / atoms as f32) / total);
    }
}

proptest! {
    #[test]
    fn projection_conserves_mass_and_is_non_negative(
        (support, mut p, rewards, continues, ell, alpha, gamma) in batch()
    ) {
        let atoms = support.atoms();
        normalise_rows(&mut p, atoms);
        let td = TdInputs { rewards: &rewards, continues: &continues, next_log_prob: &ell, alpha, gamma };
        let projected = project_onto_atoms(&support, &p, &shifted_atoms(&support, &td).unwrap()).unwrap();
        for (row_in, row_out) in p.chunks(atoms).zip(projected.chunks(atoms)) {
            let mass_in: f64 = row_in.iter().map(|&v| v as f64).sum();
            let mass_out: f64 = row_out.iter().map(|&v| v as f64).sum();
            // Each of the 2N scatter terms carries one f32 rounding of relative size 6e-8, so
            // the total moves by at most ~N·1.2e-7 ≤ 5e-6 for N < 40.
            prop_assert!((mass_in - mass_out).abs() < 5e-6, "{mass_in} vs {mass_out}");
            prop_assert!(row_out.iter().all(|&v| v >= 0.0));
        }
    }

    #[test]
    fn batched_projection_equals_the_scalar_reference(
        (support, mut p, rewards, continues, ell, alpha, gamma) in batch()
    ) {
        let atoms = support.atoms();
        normalise_rows(&mut p, atoms);
        let td = TdInputs { rewards: &rewards, continues: &continues, next_log_prob: &ell, alpha, gamma };
        let projected = project_onto_atoms(&support, &p, &shifted_atoms(&support, &td).unwrap()).unwrap();
        for b in 0..rewards.len() {
            let row = &p[b * atoms..(b + 1) * atoms];
            let reference = reference_projection(&support, row, rewards[b], continues[b], ell[b], alpha, gamma);
            for (k, (ours, theirs)) in projected[b * atoms..(b + 1) * atoms].iter().zip(&reference).enumerate() {
                // T z is formed in f32 from values up to ~600 in magnitude (|r| ≤ 300, |z| ≤ 150,
                // α·|ℓ| ≤ 100): three roundings of at most ulp(600)/2 = 3e-5 each, so b is off by
                // up to ~1e-4/Δz, and each projected entry (a p-weighted sum of b errors, Σp = 1)
                // by at most that. 2.4e-4/Δz leaves a 2× margin; 1e-6 covers the f32 sums.
                let scale = 600.0 / support.delta();
                prop_assert!((*ours as f64 - theirs).abs() < 4e-7 * scale + 1e-6,
                    "row {b} atom {k}: {ours} vs {theirs}");
            }
        }
    }
}
