//! The C51 projection against the official DIME implementation (`tests/data/dime_reference.json.gz`,
//! key `c51_projection`; see `tests/data/README.md`).

mod common;

use dime_critic::{project_onto_atoms, shifted_atoms, Support, TdInputs};

#[test]
fn projection_reproduces_the_official_c51_projection() {
    let golden = common::golden();
    let case = &golden["c51_projection"];
    let config = &case["config"];
    let atoms = config["num_atoms"].as_u64().unwrap() as usize;
    let v_min = config["v_min"].as_f64().unwrap();
    let v_max = config["v_max"].as_f64().unwrap();
    let support = Support::new(v_min, v_max, atoms).unwrap();

    // The official support is jnp.linspace in f32, whose atoms ±2 come out one ulp (2.4e-7) away
    // from the exact values our Support stores; that moves T z by at most γ·2.4e-7.
    let official_support = common::array(&case["inputs"]["support"]);
    for (ours, theirs) in support.values().iter().zip(&official_support) {
        assert!((ours - theirs).abs() <= 2.5e-7, "support {ours} vs {theirs}");
    }

    let inputs = &case["inputs"];
    let rewards = common::array(&inputs["rewards"]);
    let continues: Vec<f32> = common::array(&inputs["dones"]).iter().map(|d| 1.0 - d).collect();
    // ℓ = run + sto + terminal costs, summed as the official code does.
    let run = common::array(&inputs["next_run_costs"]);
    let sto = common::array(&inputs["next_sto_costs"]);
    let terminal = common::array(&inputs["next_terminal_costs"]);
    let bound: Vec<f32> = (0..rewards.len()).map(|b| run[b] + sto[b] + terminal[b]).collect();
    let td = TdInputs {
        rewards: &rewards,
        continues: &continues,
        next_log_prob: &bound,
        alpha: inputs["alpha_ent_coef_value"].as_f64().unwrap() as f32,
        gamma: inputs["gamma"].as_f64().unwrap() as f32,
    };

    // Helper intermediates (recomputed by the golden driver with the official f32 formula).
    let shifted = shifted_atoms(&support, &td).unwrap();
    let official_shifted = common::array(&case["helper_intermediates_not_from_official_code"]["target_z"]);
    for (i, (ours, theirs)) in shifted.iter().zip(&official_shifted).enumerate() {
        assert!((ours - theirs).abs() <= 1e-6, "T z[{i}]: {ours} vs {theirs}");
    }

    let next = common::array(&inputs["next_dist"]);
    let projected = project_onto_atoms(&support, &next, &shifted).unwrap();
    let official = common::array(&case["outputs"]["projected"]);
    assert_eq!(projected.len(), official.len());
    // Golden README: a correct f32 port agrees within 1e-6.
    let max_diff = projected.iter().zip(&official).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    eprintln!("C51 projection: max |ours − official| = {max_diff:e}");
    for (i, (ours, theirs)) in projected.iter().zip(&official).enumerate() {
        assert!((ours - theirs).abs() <= 1e-6, "projected[{}][{}]: {ours} vs {theirs}", i / atoms, i % atoms);
    }

    // Row 3 is the l == u branch: terminal, r = 4.0 lands exactly on atom 7, so all mass is there.
    let row3 = &projected[3 * atoms..4 * atoms];
    assert!((row3[7] - 1.0).abs() < 1e-6 && row3.iter().enumerate().all(|(j, p)| j == 7 || *p == 0.0));
}

#[test]
fn c51_crosscheck_ties_the_extracted_projection_to_the_official_update() {
    // The golden file stores only the two loss values of this check (no critic parameters or
    // batch), so the loss itself cannot be recomputed here. What does apply: the official
    // update_critic and the recomputation with the extracted projection agree exactly, so the
    // projection reproduced above is the one the official critic update uses.
    let golden = common::golden();
    let check = &golden["c51_crosscheck"];
    let official = check["official_update_critic_loss"].as_f64().unwrap();
    let recomputed = check["recomputed_with_extracted_projection"].as_f64().unwrap();
    assert_eq!(official, recomputed);
    assert_eq!(check["abs_diff"].as_f64().unwrap(), 0.0);
}
