//! Contacts against closed forms: collision geometry of analytic configurations (design notes §3.9
//! stage 2 (b)), the steady penetration of a sphere resting on a plane under MuJoCo's soft-contact
//! law (§3.5), and a sphere sliding with friction until it rolls.

use dime_envs::sim::collision::{collide, make_frame, GeomPose, GeomShape};
use dime_envs::sim::spatial::{quat_to_mat, Mat3, MAT3_IDENTITY};
use dime_envs::sim::{
    BodySpec, ContactSpec, Data, FrameSpec, GeomCollision, Integrator, JointKind, JointSpec, Model, ModelSpec,
    SimOptions,
};

const G: f64 = 9.81;
const RADIUS: f64 = 0.1;
const MASS: f64 = 1.0;
/// Solid sphere: I = 2/5·m·r².
const INERTIA: f64 = 0.4 * MASS * RADIUS * RADIUS;

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!((a - b).abs() <= tol, "{what}: {a} vs {b} (|Δ| = {:e} > {tol:e})", (a - b).abs());
}

fn rot_y(angle: f64) -> Mat3 {
    quat_to_mat([(angle / 2.0).cos(), 0.0, (angle / 2.0).sin(), 0.0])
}

#[test]
fn plane_capsule_and_sphere_geometry() {
    let plane = GeomPose { pos: [0.0; 3], mat: MAT3_IDENTITY };
    // A horizontal capsule (axis along world x after a 90° turn about y) at height 0.095, r = 0.1,
    // half-length 0.3: both end spheres penetrate by 0.005, at x = ±0.3.
    let capsule = GeomPose { pos: [1.0, 0.0, 0.095], mat: rot_y(std::f64::consts::FRAC_PI_2) };
    let shape = GeomShape::Capsule { radius: 0.1, half_length: 0.3 };
    let [first, second] = collide(GeomShape::Plane, &plane, shape, &capsule, 0.0);
    let (first, second) = (first.expect("+axis end touches"), second.expect("−axis end touches"));
    close(first.dist, -0.005, 1e-12, "dist");
    close(second.dist, -0.005, 1e-12, "dist");
    // Point c − n·(r + dist/2): z = 0.095 − 0.1 + 0.0025 = −0.0025; the +axis end is at x = 1.3.
    for (point, x) in [(first.pos, 1.3), (second.pos, 0.7)] {
        close(point[0], x, 1e-12, "x");
        close(point[2], -0.0025, 1e-12, "z");
    }
    // Frame: normal +z, first tangent = the capsule axis (+x), second = z × x = +y.
    let expected = [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
    for (row, expected_row) in first.frame.iter().zip(&expected) {
        for (a, b) in row.iter().zip(expected_row) {
            close(*a, *b, 1e-12, "frame");
        }
    }
    // Tilted by 0.5 rad from horizontal: only the lower end (if below r) touches; compare with the end heights.
    let tilted = GeomPose { pos: [0.0, 0.0, 0.2], mat: rot_y(std::f64::consts::FRAC_PI_2 + 0.5) };
    let ends = collide(GeomShape::Plane, &plane, shape, &tilted, 0.0);
    let axis = [tilted.mat[0][2], tilted.mat[1][2], tilted.mat[2][2]];
    let heights = [0.2 + 0.3 * axis[2], 0.2 - 0.3 * axis[2]];
    let touching: Vec<f64> = heights.iter().map(|z| z - 0.1).filter(|d| *d <= 0.0).collect();
    let found: Vec<f64> = ends.iter().flatten().map(|c| c.dist).collect();
    assert_eq!(found.len(), touching.len(), "only penetrating ends make contacts");
    for (a, b) in found.iter().zip(&touching) {
        close(*a, *b, 1e-12, "tilted dist");
    }
    // Sphere–capsule: sphere r = 0.05 at (0, 0, 0.3) above a capsule along x at the origin:
    // dist = 0.3 − 0.05 − 0.1, normal from the sphere (geom 1) down to the capsule (−z).
    let sphere = GeomPose { pos: [0.0, 0.0, 0.3], mat: MAT3_IDENTITY };
    let lying = GeomPose { pos: [0.0; 3], mat: rot_y(std::f64::consts::FRAC_PI_2) };
    let [c, none] = collide(GeomShape::Sphere { radius: 0.05 }, &sphere, shape, &lying, 0.2);
    let c = c.expect("within the margin");
    assert!(none.is_none());
    close(c.dist, 0.15, 1e-12, "sphere–capsule dist");
    close(c.frame[0][2], -1.0, 1e-12, "normal");
    // Midpoint: c₁ + n·(r₁ + dist/2) = 0.3 − (0.05 + 0.075).
    close(c.pos[2], 0.175, 1e-12, "point");
    // Crossed capsules: x-axis capsule at z = 0 and y-axis capsule at z = 0.15, both r = 0.1: dist −0.05.
    let crossed = GeomPose { pos: [0.0, 0.0, 0.15], mat: quat_to_mat([0.5_f64.sqrt(), 0.5_f64.sqrt(), 0.0, 0.0]) };
    let [c, _] = collide(shape, &lying, shape, &crossed, 0.0);
    let c = c.expect("crossed capsules overlap");
    close(c.dist, -0.05, 1e-12, "capsule–capsule dist");
    close(c.pos[2], 0.075, 1e-12, "capsule–capsule point");
    for (a, b) in make_frame([0.0, 0.0, 1.0], None)[0].iter().zip(&c.frame[0]) {
        close(*a, *b, 1e-12, "capsule–capsule normal +z");
    }
}

/// A sphere on a free joint above an infinite plane, with the given contact parameters.
fn sphere_on_plane(condim: u32, friction: f64, solimp: [f64; 5]) -> Model {
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
    let ball = BodySpec { name: "ball".into(), mass: MASS, inertia: [INERTIA; 3], ..world.clone() };
    let joint = JointSpec {
        name: "free".into(),
        kind: JointKind::Free,
        body: 1,
        pos: [0.0; 3],
        axis: [0.0, 0.0, 1.0],
        limit: None,
        stiffness: 0.0,
        springref: 0.0,
        damping: 0.0,
        armature: 0.0,
    };
    let frame = |name: &str, body| FrameSpec {
        name: name.into(),
        body,
        pos: [0.0; 3],
        quat: [1.0, 0.0, 0.0, 0.0],
        size: [RADIUS, 0.0, 0.0],
    };
    let spec = ModelSpec {
        name: "sphere on plane".into(),
        options: SimOptions {
            timestep: 0.001,
            gravity: [0.0, 0.0, -G],
            integrator: Integrator::Euler,
            joint_limits: true,
        },
        bodies: vec![world, ball],
        joints: vec![joint],
        actuators: vec![],
        geoms: vec![frame("floor", 0), frame("ball", 1)],
        sites: vec![],
        qpos0: vec![0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
    };
    let geom = |shape| GeomCollision {
        shape: Some(shape),
        type_name: String::new(),
        contype: 1,
        conaffinity: 1,
        condim,
        friction: [friction, 0.005, 0.0001],
        solref: [0.02, 1.0],
        solimp,
        margin: 0.0,
    };
    let contact =
        ContactSpec { geoms: vec![geom(GeomShape::Plane), geom(GeomShape::Sphere { radius: RADIUS })], impratio: 1.0 };
    Model::with_contacts(spec, contact, 100).unwrap()
}

/// MuJoCo's impedance curve written out from the design notes (§3.5), independently of the engine.
fn impedance(solimp: [f64; 5], dist: f64) -> f64 {
    let [d0, dmax, width, mid, p] = solimp;
    let x = dist.abs() / width;
    if x >= 1.0 {
        return dmax;
    }
    let y = if x <= mid { x.powf(p) / mid.powf(p - 1.0) } else { 1.0 - (1.0 - x).powf(p) / (1.0 - mid).powf(p - 1.0) };
    d0 + y * (dmax - d0)
}

/// Steady penetration of a resting body: at rest the contact carries λ = m·g and the solver's
/// optimality condition `(A + R)λ + b = 0` with `A·λ = g = −J·a₀` reduces to `aref = R·λ`, i.e.
/// `−K·imp(d)·d = (1 − imp(d))/imp(d) · (1/m) · m·g` with `K = 1/(dmax²·τ²·ζ²)` (τ = 0.02, ζ = 1)
/// and `diagApprox = 1/m` (a free body's translational inverse weight). Solved by bisection.
fn steady_penetration(solimp: [f64; 5]) -> f64 {
    let k = 1.0 / (solimp[1] * solimp[1] * 0.02 * 0.02);
    let residual = |d: f64| {
        let imp = impedance(solimp, d);
        -k * imp * d - (1.0 - imp) / imp * G
    };
    let (mut lo, mut hi) = (-0.01, 0.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if residual(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

fn settle(model: &Model, qvel: [f64; 6], seconds: f64) -> Data {
    let mut data = Data::new(model);
    data.set_state(model, &[0.0, 0.0, RADIUS, 1.0, 0.0, 0.0, 0.0], &qvel).unwrap();
    for _ in 0..(seconds / model.timestep()).round() as usize {
        data.step(model).unwrap();
    }
    data
}

#[test]
fn resting_sphere_sinks_to_the_soft_contact_equilibrium() {
    // Constant impedance 0.9 (d0 = dmax): d = −(1 − 0.9)·g/(K·0.9²) = −3.924e-4 m exactly; then
    // MuJoCo's default curve (0.9, 0.95, 0.001, 0.5, 2), where imp depends on the depth.
    for solimp in [[0.9, 0.9, 0.001, 0.5, 2.0], [0.9, 0.95, 0.001, 0.5, 2.0]] {
        let model = sphere_on_plane(1, 0.0, solimp);
        // Dropped from touching height: the critically damped contact (τ = 0.02 s) settles well
        // within 2 s = 100 time constants, so what is left is rounding.
        let data = settle(&model, [0.0; 6], 2.0);
        let expected = steady_penetration(solimp);
        let dist = data.contacts()[0].dist;
        close(dist, expected, 1e-12, "steady penetration");
        close(data.qpos()[2], RADIUS + expected, 1e-12, "rest height");
        close(data.contact_force(0)[0], MASS * G, 1e-9, "normal force carries the weight");
        assert!(data.qvel().iter().all(|v| v.abs() < 1e-12), "at rest: {:?}", data.qvel());
    }
    close(
        steady_penetration([0.9, 0.9, 0.001, 0.5, 2.0]),
        -0.1 * G / (1.0 / (0.81 * 4e-4) * 0.81),
        1e-15,
        "closed form",
    );
}

#[test]
fn sliding_sphere_feels_coulomb_friction_then_rolls() {
    let mu = 0.5;
    let solimp = [0.9, 0.95, 0.001, 0.5, 2.0];
    let model = sphere_on_plane(3, mu, solimp);
    let mut data = settle(&model, [0.0; 6], 1.0);
    let rest = data.qpos().to_vec();
    let v0 = 1.0;
    data.set_state(&model, &rest, &[v0, 0.0, 0.0, 0.0, 0.0, 0.0]).unwrap();
    let mut sliding_steps = 0;
    for _ in 0..2000 {
        data.step(&model).unwrap();
        data.forward(&model).unwrap();
        // The soft pyramidal contact makes a fast slider hop (the edge rows' reference
        // acceleration −B·(v_n ± μ·v_t) pushes up while it slides), as in MuJoCo: skip flights.
        if data.contacts().is_empty() {
            continue;
        }
        // Slip speed of the contact point: v − ω_y·(r + d/2) (ω about +y rolls towards +x).
        let slip = data.qvel()[0] - data.qvel()[4] * (RADIUS + data.contacts()[0].dist / 2.0);
        let [normal, t1, t2] = data.contact_force(0);
        let ratio = (t1 * t1 + t2 * t2).sqrt() / normal;
        // The pyramid keeps the friction inside the cone: |f_t| ≤ μ·f_n (|f₁| + |f₂| ≤ μ·f_n in fact).
        assert!(ratio <= mu * (1.0 + 1e-12), "friction {ratio}·f_n outside the cone");
        // While the edge opposing the slip has a reference acceleration B·μ·slip above g
        // (B = 2/(dmax·τ) = 105.3/s), that edge alone carries the force, so friction is exactly
        // μ·f_n, opposing the motion (+t₂ = −x is backwards). Slower slip shares the force with
        // the t₁ edges (soft friction), which only the cone bound above covers.
        let b = 2.0 / (solimp[1] * 0.02);
        if b * mu * slip > 1.05 * G {
            close(ratio, mu, 1e-9, "friction / normal while sliding fast");
            assert!(t2 > 0.0, "friction opposes the slip");
            sliding_steps += 1;
        }
    }
    println!("sliding steps at μ·f_n: {sliding_steps}; rolling speed {}", data.qvel()[0]);
    // The slip decays from 1 m/s at about μ·g·7/2 ≈ 17 m/s², reaching 0.19 m/s after ≈ 47 steps,
    // about half of them in flight; require a clear part of that phase to have been checked.
    assert!(sliding_steps >= 10, "slid at the cone boundary for only {sliding_steps} steps");
    // Angular momentum about the contact point is conserved (friction and normal force act
    // there, gravity through it), so rolling starts at v = v0/(1 + I/(m·a²)) with the lever arm
    // a = r + d/2 (5/7·v0 for a rigid contact). The lever arm moves by at most the penetration
    // (~4e-4 of r = 0.1) during the slide, which bounds the error at a few 1e-4 relative.
    let a = RADIUS + data.contacts()[0].dist / 2.0;
    let expected = v0 / (1.0 + INERTIA / (MASS * a * a));
    close(data.qvel()[0], expected, 1e-3 * expected, "rolling speed");
    close(data.qvel()[4] * a, data.qvel()[0], 1e-9, "rolling without slip");
}
