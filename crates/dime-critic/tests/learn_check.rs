//! Longer learning checks, `#[ignore]`d in `cargo test`; run by `cargo xtask learn-check`
//! (or `cargo test -p dime-critic --test learn_check -- --ignored`). About a minute each in the
//! test profile: CrossQ's BatchRenorm critic needs more updates than SAC's plain MLP to fit.

mod common;

use common::fit_known_q;
use dime_critic::CriticConfig;

/// CrossQ's scalar critic (BatchRenorm, joint forward, no target, Adam lr 1e-3 β1 0.5) on the
/// synthetic known-Q task of `common::fit_known_q`. Var(s0·a0) = 1/9 ≈ 0.111, so MSE < 0.01
/// means ~90% of Q*'s variation is explained and the offset is right to ~0.1.
#[test]
#[ignore = "learning check: run with cargo xtask learn-check"]
fn crossq_critic_fits_a_known_q_function() {
    let config = CriticConfig { hidden_widths: vec![64, 64], ..CriticConfig::crossq() };
    // Without bootstrapping (Q* = r) and with it (γ = 0.5, Q* = 2 + s0·a0). The bootstrapped
    // target takes the min over the two members, which biases Q low by roughly the members'
    // disagreement; the bound includes that bias.
    let terminal = fit_known_q(config.clone(), 3000, 0.0);
    let bootstrapped = fit_known_q(config, 3000, 0.5);
    assert!(terminal < 0.01, "terminal MSE {terminal}");
    assert!(bootstrapped < 0.01, "bootstrapped MSE {bootstrapped}");
}
