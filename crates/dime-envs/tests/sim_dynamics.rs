//! The simulator against closed forms: mass matrices, bias forces, one Euler step, rigid-body
//! rotation, and conservation laws under RK4. Expected numbers are derived in the comments.

use dime_envs::sim::assets::{DMC_ACROBOT, DMC_CARTPOLE, DMC_PENDULUM};
use dime_envs::sim::spatial::{quat_integrate, quat_mul, quat_to_mat};
use dime_envs::sim::{BodySpec, Data, Integrator, JointKind, JointSpec, Model, ModelSpec, SimError, SimOptions};

fn model(name: &str, json: &str) -> Model {
    Model::from_mujoco_json(name, json).unwrap()
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!((a - b).abs() <= tol, "{what}: {a} vs {b} (|diff| {:e} > {tol:e})", (a - b).abs());
}

#[test]
fn pendulum_mass_matrix_and_gravity_torque() {
    // model_dmc_pendulum.json: point mass 1 kg at 0.5 m below... above the hinge (ipos z = 0.5),
    // I_com = 0.001, so M = 1·0.5² + 0.001 = 0.251. The mass sits at 0.5·(sin θ, 0, cos θ) from the
    // hinge; gravity's torque about +y is r_z·F_x − r_x·F_z = 0.5 sin θ · 9.81, so the bias
    // (which moves to the left-hand side) is c = −4.905 sin θ, independent of θ̇ for one dof.
    let m = model("pendulum", DMC_PENDULUM);
    let mut d = Data::new(&m);
    for (theta, theta_dot) in [(0.0, 0.0), (0.3, 2.0), (2.0, -1.5), (-3.0, 7.0)] {
        d.set_state(&m, &[theta], &[theta_dot]).unwrap();
        close(d.mass_matrix(&m)[0], 0.251, 1e-15, "M");
        close(d.qfrc_bias()[0], -4.905 * f64::sin(theta), 1e-14, "bias");
        close(d.qfrc_passive()[0], -0.1 * theta_dot, 1e-15, "damping");
    }
}

#[test]
fn pendulum_euler_step_with_implicit_damping_matches_the_design_example() {
    // envs.md §3.4: q = 2.0, v = 0.5, u = 0.3 gives v' = 0.8723402275557286 (MuJoCo 3.17).
    // By hand: v' = v + h·(u − 0.1·v + 4.905 sin q)/(0.251 + h·0.1), q' = q + h·v'.
    let m = model("pendulum", DMC_PENDULUM);
    let mut d = Data::new(&m);
    d.set_state(&m, &[2.0], &[0.5]).unwrap();
    d.set_ctrl(&m, &[0.3]).unwrap();
    d.step(&m).unwrap();
    let h = 0.02;
    let v = 0.5 + h * (0.3 - 0.1 * 0.5 + 4.905 * 2.0_f64.sin()) / (0.251 + h * 0.1);
    close(d.qvel()[0], 0.8723402275557286, 2e-16, "MuJoCo's v'");
    close(d.qvel()[0], v, 1e-14, "hand v'");
    close(d.qpos()[0], 2.0 + h * d.qvel()[0], 1e-15, "q'");
}

#[test]
fn cartpole_mass_matrix_and_bias_closed_form() {
    // envs.md §2.5: M = [[1.1, 0.05 cos θ], [0.05 cos θ, I_y + 0.025]] with I_y the pole's
    // principal moment about y, and c = [−0.05 sin θ·θ̇², −0.4905 sin θ] (pole mass 0.1, COM 0.5).
    let m = model("cartpole", DMC_CARTPOLE);
    let i_y = m.spec().bodies[2].inertia[1];
    let mut d = Data::new(&m);
    for (x, theta, x_dot, theta_dot) in [(0.0, 0.0, 0.0, 0.0), (0.5, 1.0, -2.0, 3.0), (-1.0, 3.0, 1.0, -9.0)] {
        d.set_state(&m, &[x, theta], &[x_dot, theta_dot]).unwrap();
        let mm = d.mass_matrix(&m);
        close(mm[0], 1.1, 1e-15, "M00");
        close(mm[1], 0.05 * theta.cos(), 1e-15, "M01");
        close(mm[2], 0.05 * theta.cos(), 1e-15, "M10");
        close(mm[3], i_y + 0.025, 1e-15, "M11");
        close(d.qfrc_bias()[0], -0.05 * theta.sin() * theta_dot * theta_dot, 1e-13, "c0");
        close(d.qfrc_bias()[1], -0.4905 * theta.sin(), 1e-14, "c1");
    }
}

/// The acrobot without damping: a conservative double pendulum.
fn undamped_acrobot() -> Model {
    let mut spec = model("acrobot", DMC_ACROBOT).spec().clone();
    for joint in &mut spec.joints {
        joint.damping = 0.0;
    }
    Model::new(spec).unwrap()
}

/// Largest |E(t) − E(0)| over `seconds` of the undamped acrobot from rest at (1.0, 0.5) rad, at step `h`.
fn energy_drift(h: f64, seconds: f64) -> f64 {
    let mut spec = undamped_acrobot().spec().clone();
    spec.options.timestep = h;
    let m = Model::new(spec).unwrap();
    let mut d = Data::new(&m);
    d.set_state(&m, &[1.0, 0.5], &[0.0, 0.0]).unwrap();
    let (p0, k0) = d.energy(&m);
    let mut drift: f64 = 0.0;
    for _ in 0..(seconds / h).round() as usize {
        d.step(&m).unwrap();
        let (p, k) = d.energy(&m);
        drift = drift.max((p + k - p0 - k0).abs());
    }
    drift
}

#[test]
fn rk4_conserves_energy_of_an_undamped_double_pendulum_to_fourth_order() {
    // From rest at (1.0, 0.5) rad the double pendulum swings with up to ~30 J of kinetic energy
    // (|q̇| up to ~8 rad/s). RK4's energy error per unit time is O(h⁴): over 2 s it is ~1e-5 J at
    // the model's h = 0.01, and halving h must divide it by about 2⁴ = 16 (allow 10–22).
    let coarse = energy_drift(0.01, 2.0);
    let fine = energy_drift(0.005, 2.0);
    assert!(coarse < 1e-4, "energy drift {coarse} J at h = 0.01");
    let ratio = coarse / fine;
    assert!((10.0..22.0).contains(&ratio), "drift ratio {ratio} (h: {coarse}, h/2: {fine})");
}

#[test]
fn damping_only_removes_energy() {
    // With damping 0.05 and no control the total energy can only decrease (up to RK4's error).
    let m = model("acrobot", DMC_ACROBOT);
    let mut d = Data::new(&m);
    d.set_state(&m, &[1.0, 0.5], &[0.0, 0.0]).unwrap();
    let (p, k) = d.energy(&m);
    let mut energy = p + k;
    for _ in 0..500 {
        d.step(&m).unwrap();
        let (p, k) = d.energy(&m);
        assert!(p + k <= energy + 1e-9, "energy grew: {} > {energy}", p + k);
        energy = p + k;
    }
}

/// A single body on a free joint (or a ball joint at the world origin) with principal moments
/// `inertia`, no gravity unless given.
fn single_body(kind: JointKind, inertia: [f64; 3], gravity: [f64; 3], integrator: Integrator) -> Model {
    let world = BodySpec {
        name: "world".into(),
        parent: 0,
        pos: [0.0; 3],
        quat: [1.0, 0.0, 0.0, 0.0],
        mass: 0.0,
        inertia: [0.0; 3],
        ipos: [0.0; 3],
        iquat: [1.0, 0.0, 0.0, 0.0],
    };
    let body = BodySpec { name: "body".into(), mass: 2.0, inertia, ..world.clone() };
    let joint = JointSpec {
        name: "joint".into(),
        kind,
        body: 1,
        pos: [0.0; 3],
        axis: [0.0, 0.0, 1.0],
        limit: None,
        stiffness: 0.0,
        springref: 0.0,
        damping: 0.0,
        armature: 0.0,
    };
    let qpos0 = match kind {
        JointKind::Free => vec![0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        JointKind::Ball => vec![1.0, 0.0, 0.0, 0.0],
        JointKind::Hinge | JointKind::Slide => vec![0.0],
    };
    Model::new(ModelSpec {
        name: "single body".into(),
        options: SimOptions { timestep: 0.001, gravity, integrator, joint_limits: true },
        bodies: vec![world, body],
        joints: vec![joint],
        actuators: vec![],
        geoms: vec![],
        sites: vec![],
        qpos0,
    })
    .unwrap()
}

#[test]
fn free_body_falls_with_gravity_and_obeys_eulers_equations() {
    // A free body (COM at its origin) accelerates at g, and its body-frame angular velocity
    // follows Euler's equations I·ω̇ = −ω × I·ω (no torque).
    let inertia = [0.1, 0.2, 0.3];
    let m = single_body(JointKind::Free, inertia, [0.0, 0.0, -9.81], Integrator::Euler);
    let mut d = Data::new(&m);
    let s = 0.5_f64.sqrt();
    let omega = [1.0, -2.0, 0.5];
    d.set_state(&m, &[1.0, 2.0, 3.0, s, 0.0, s, 0.0], &[0.3, 0.0, -1.0, omega[0], omega[1], omega[2]]).unwrap();
    let qacc = d.qacc();
    close(qacc[0], 0.0, 1e-14, "ax");
    close(qacc[1], 0.0, 1e-14, "ay");
    close(qacc[2], -9.81, 1e-14, "az");
    let i_omega = [inertia[0] * omega[0], inertia[1] * omega[1], inertia[2] * omega[2]];
    let gyro = [
        omega[1] * i_omega[2] - omega[2] * i_omega[1],
        omega[2] * i_omega[0] - omega[0] * i_omega[2],
        omega[0] * i_omega[1] - omega[1] * i_omega[0],
    ];
    for k in 0..3 {
        close(qacc[3 + k], -gyro[k] / inertia[k], 1e-13, "Euler's equations");
    }
}

/// Largest deviation of the world angular momentum `R·I·ω` (any component) and of the kinetic
/// energy over 3 s of torque-free tumbling at step `h` under RK4.
fn tumbling_errors(h: f64) -> (f64, f64) {
    let inertia = [0.1, 0.2, 0.3];
    let mut spec = single_body(JointKind::Free, inertia, [0.0; 3], Integrator::Rk4).spec().clone();
    spec.options.timestep = h;
    let m = Model::new(spec).unwrap();
    let mut d = Data::new(&m);
    d.set_state(&m, &[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 0.0, 0.05, 3.0, 0.05]).unwrap();
    let momentum = |d: &Data| {
        let q = &d.qpos()[3..7];
        let r = quat_to_mat([q[0], q[1], q[2], q[3]]);
        let w = &d.qvel()[3..6];
        let body = [inertia[0] * w[0], inertia[1] * w[1], inertia[2] * w[2]];
        [0, 1, 2].map(|i| r[i][0] * body[0] + r[i][1] * body[1] + r[i][2] * body[2])
    };
    let (l0, k0) = (momentum(&d), d.energy(&m).1);
    let (mut momentum_err, mut energy_err, mut max_tumble): (f64, f64, f64) = (0.0, 0.0, 0.0);
    for _ in 0..(3.0 / h).round() as usize {
        d.step(&m).unwrap();
        let l = momentum(&d);
        for k in 0..3 {
            momentum_err = momentum_err.max((l[k] - l0[k]).abs());
        }
        energy_err = energy_err.max((d.energy(&m).1 - k0).abs() / k0);
        max_tumble = max_tumble.max(d.qvel()[3].abs());
    }
    assert!(max_tumble > 1.0, "the body tumbles (|ω_x| reached {max_tumble})");
    (momentum_err / 0.6, energy_err)
}

#[test]
fn tumbling_free_body_conserves_energy_and_angular_momentum_under_rk4() {
    // Torque-free rotation started near the unstable middle axis (ω = (0.05, 3, 0.05) rad/s,
    // |L| = 0.6) tumbles; kinetic energy and world angular momentum are constants of the motion.
    // MuJoCo's RK4 (which this engine reproduces) adds the body-frame angular velocities of its
    // four stages as if they shared one frame, dropping the commutator term of the exact
    // rotation: orientation, and so the direction of L, is second-order accurate (halving h
    // divides the error by ~4), while the kinetic energy (a function of the body-frame ω alone)
    // keeps RK4's fourth order. Measured: L 1.9e-7·|L| and energy 6e-14 relative at h = 1 ms.
    let (momentum_coarse, _) = tumbling_errors(0.002);
    let (momentum_fine, energy_fine) = tumbling_errors(0.001);
    assert!(momentum_fine < 1e-6, "angular momentum error {momentum_fine} of |L| at h = 1 ms");
    assert!(energy_fine < 1e-12, "kinetic energy error {energy_fine} (relative) at h = 1 ms");
    let order = (momentum_coarse / momentum_fine).log2();
    assert!((1.8..2.2).contains(&order), "angular momentum error order {order}");
}

#[test]
fn ball_joint_pendulum_swings_like_a_hinge_pendulum() {
    // A ball joint whose motion starts in the x–z plane stays there and must follow the hinge
    // pendulum with the same inertia: compare 500 RK4 steps of both (same arithmetic up to rounding).
    let pendulum = |kind| {
        let mut m = single_body(kind, [0.01, 0.01, 0.01], [0.0, 0.0, -9.81], Integrator::Rk4).spec().clone();
        m.bodies[1].ipos = [0.0, 0.0, -0.5];
        m.joints[0].axis = [0.0, 1.0, 0.0];
        Model::new(m).unwrap()
    };
    let (ball, hinge) = (pendulum(JointKind::Ball), pendulum(JointKind::Hinge));
    let (mut db, mut dh) = (Data::new(&ball), Data::new(&hinge));
    let angle: f64 = 0.8;
    db.set_state(&ball, &[(angle / 2.0).cos(), 0.0, (angle / 2.0).sin(), 0.0], &[0.0, 0.3, 0.0]).unwrap();
    dh.set_state(&hinge, &[angle], &[0.3]).unwrap();
    for _ in 0..500 {
        db.step(&ball).unwrap();
        dh.step(&hinge).unwrap();
        let q = db.qpos();
        let ball_angle = 2.0 * q[2].atan2(q[0]);
        close(ball_angle, dh.qpos()[0], 1e-12, "angle");
        close(db.qvel()[1], dh.qvel()[0], 1e-12, "angular velocity");
        close(db.qvel()[0], 0.0, 1e-12, "out-of-plane velocity");
    }
}

#[test]
fn quaternion_integration_follows_the_exponential_map() {
    // q ⊗ (cos(θ/2), sin(θ/2)·ω/|ω|) with θ = h·|ω|: a quarter turn about body z in one step.
    let q0 = [0.5_f64.sqrt(), 0.5_f64.sqrt(), 0.0, 0.0];
    let h = 0.25;
    let q = quat_integrate(q0, [0.0, 0.0, 2.0 * std::f64::consts::PI], h);
    let s = 0.5_f64.sqrt();
    let expected = quat_mul(q0, [s, 0.0, 0.0, s]);
    for k in 0..4 {
        close(q[k], expected[k], 1e-15, "quaternion");
    }
    assert_eq!(quat_integrate(q0, [0.0; 3], h), q0, "zero angular velocity leaves q unchanged");
}

#[test]
fn spring_on_a_slide_follows_the_implicit_euler_formula() {
    // Mass 2 on a slide with stiffness 50, damping 3, under gravity along the axis (x):
    // v' = v + h·(−k·(x − ref) − c·v + m·g)/(m + h·c), x' = x + h·v'.
    let mut spec = single_body(JointKind::Free, [0.1; 3], [4.0, 0.0, 0.0], Integrator::Euler).spec().clone();
    spec.joints[0] = JointSpec {
        kind: JointKind::Slide,
        axis: [1.0, 0.0, 0.0],
        stiffness: 50.0,
        springref: 0.2,
        damping: 3.0,
        ..spec.joints[0].clone()
    };
    spec.qpos0 = vec![0.0];
    let m = Model::new(spec).unwrap();
    let mut d = Data::new(&m);
    let (x, v, h) = (0.7, -1.0, 0.001);
    d.set_state(&m, &[x], &[v]).unwrap();
    d.step(&m).unwrap();
    let v1 = v + h * (-50.0 * (x - 0.2) - 3.0 * v + 2.0 * 4.0) / (2.0 + h * 3.0);
    close(d.qvel()[0], v1, 1e-14, "v'");
    close(d.qpos()[0], x + h * v1, 1e-15, "x'");
}

#[test]
fn a_diverging_step_is_reported_and_leaves_the_state_unchanged() {
    // 1e9 rad/s on the cartpole hinge: the centrifugal force is ~1e17 N, so one RK4 step
    // leaves the finite range (|qvel| > 1e10).
    let m = model("cartpole", DMC_CARTPOLE);
    let mut d = Data::new(&m);
    d.set_state(&m, &[0.0, 0.3], &[0.0, 1e9]).unwrap();
    let err = d.step(&m).unwrap_err();
    assert!(matches!(err, SimError::Diverged { .. }), "{err}");
    assert_eq!((d.qpos(), d.qvel()), (&[0.0, 0.3][..], &[0.0, 1e9][..]));
    assert!(d.qacc().iter().all(|a| a.is_finite()));
}

#[test]
fn non_finite_or_misshaped_inputs_are_errors() {
    let m = model("cartpole", DMC_CARTPOLE);
    let mut d = Data::new(&m);
    assert!(matches!(d.set_state(&m, &[0.0, f64::NAN], &[0.0, 0.0]), Err(SimError::NonFiniteInput { index: 1, .. })));
    assert!(matches!(d.set_state(&m, &[0.0], &[0.0, 0.0]), Err(SimError::WrongLength { expected: 2, .. })));
    assert!(matches!(d.set_ctrl(&m, &[f64::INFINITY]), Err(SimError::NonFiniteInput { .. })));
    assert!(matches!(d.set_ctrl(&m, &[0.0, 0.0]), Err(SimError::WrongLength { .. })));
}
