//! 3-D and 6-D spatial algebra in f64, in MuJoCo's conventions.
//!
//! - `Vec3` is `[x, y, z]`; `Mat3` is row-major (`m[r][c]`), so a body's `xmat` column k is its
//!   local axis k in world coordinates and `xmat[0][2]` is the "xz" entry DMC observes.
//! - `Quat` is `[w, x, y, z]`, unit norm; `quat_to_mat` uses MuJoCo's `mju_quat2Mat` form.
//! - A spatial vector is `[angular; linear]` (6 entries), expressed with world-aligned axes about
//!   the origin of a kinematic tree's "com frame" (the subtree centre of mass of its root body).
//!   A motion vector `(ω, v)` has `v` = velocity of the material point at that origin; a force
//!   vector `(n, f)` has `n` = moment about that origin.

/// A 3-vector.
pub type Vec3 = [f64; 3];
/// A 3×3 matrix, row-major.
pub type Mat3 = [[f64; 3]; 3];
/// A quaternion `[w, x, y, z]`.
pub type Quat = [f64; 4];
/// A spatial motion or force vector `[angular; linear]`.
pub type Spatial = [f64; 6];

/// Below this, MuJoCo treats a norm as zero (`mjMINVAL`).
pub const MIN_VAL: f64 = 1e-15;
/// The identity rotation.
pub const QUAT_IDENTITY: Quat = [1.0, 0.0, 0.0, 0.0];
/// The identity matrix.
pub const MAT3_IDENTITY: Mat3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

/// `a + b`.
pub fn add3(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

/// `a − b`.
pub fn sub3(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// `s·a`.
pub fn scale3(a: Vec3, s: f64) -> Vec3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

/// `a·b`.
pub fn dot3(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// `a × b`.
pub fn cross3(a: Vec3, b: Vec3) -> Vec3 {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

/// Euclidean norm.
pub fn norm3(a: Vec3) -> f64 {
    dot3(a, a).sqrt()
}

/// `m·v`.
pub fn mat_vec(m: &Mat3, v: Vec3) -> Vec3 {
    [dot3(m[0], v), dot3(m[1], v), dot3(m[2], v)]
}

/// `a·b`.
pub fn mat_mul(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut out = [[0.0; 3]; 3];
    for (r, row) in out.iter_mut().enumerate() {
        for (c, x) in row.iter_mut().enumerate() {
            *x = a[r][0] * b[0][c] + a[r][1] * b[1][c] + a[r][2] * b[2][c];
        }
    }
    out
}

/// Column `c` of `m`.
pub fn column(m: &Mat3, c: usize) -> Vec3 {
    [m[0][c], m[1][c], m[2][c]]
}

/// Hamilton product `a ⊗ b` (apply `b` first, then `a`).
pub fn quat_mul(a: Quat, b: Quat) -> Quat {
    [
        a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
        a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
        a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
        a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
    ]
}

/// `q / |q|`; the identity if `|q| < MIN_VAL` (MuJoCo's `mju_normalize4`).
pub fn quat_normalize(q: Quat) -> Quat {
    let n = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).sqrt();
    if n < MIN_VAL {
        QUAT_IDENTITY
    } else if (n - 1.0).abs() > MIN_VAL {
        [q[0] / n, q[1] / n, q[2] / n, q[3] / n]
    } else {
        q
    }
}

/// The rotation by `angle` about the unit vector `axis`.
pub fn quat_from_axis_angle(axis: Vec3, angle: f64) -> Quat {
    if angle == 0.0 {
        return QUAT_IDENTITY;
    }
    let (s, c) = (0.5 * angle).sin_cos();
    [c, axis[0] * s, axis[1] * s, axis[2] * s]
}

/// Rotation matrix of a unit quaternion (MuJoCo's `mju_quat2Mat` arithmetic).
pub fn quat_to_mat(q: Quat) -> Mat3 {
    if q == QUAT_IDENTITY {
        return MAT3_IDENTITY;
    }
    let (q00, q01, q02, q03) = (q[0] * q[0], q[0] * q[1], q[0] * q[2], q[0] * q[3]);
    let (q11, q12, q13) = (q[1] * q[1], q[1] * q[2], q[1] * q[3]);
    let (q22, q23, q33) = (q[2] * q[2], q[2] * q[3], q[3] * q[3]);
    [
        [q00 + q11 - q22 - q33, 2.0 * (q12 - q03), 2.0 * (q13 + q02)],
        [2.0 * (q12 + q03), q00 - q11 + q22 - q33, 2.0 * (q23 - q01)],
        [2.0 * (q13 - q02), 2.0 * (q23 + q01), q00 - q11 - q22 + q33],
    ]
}

/// Rotate `v` by the unit quaternion `q`.
pub fn quat_rotate(q: Quat, v: Vec3) -> Vec3 {
    mat_vec(&quat_to_mat(q), v)
}

/// `q ← normalize(q ⊗ exp(½·h·ω))`: integrate a body-frame angular velocity `omega` over `h`
/// (MuJoCo's `mju_quatIntegrate`).
pub fn quat_integrate(q: Quat, omega: Vec3, h: f64) -> Quat {
    let speed = norm3(omega);
    let axis = if speed < MIN_VAL { [1.0, 0.0, 0.0] } else { scale3(omega, 1.0 / speed) };
    quat_normalize(quat_mul(q, quat_from_axis_angle(axis, speed * h)))
}

/// Spatial motion cross product `a × b` (`crossMotion`): `[ωa × ωb; ωa × vb + va × ωb]`.
pub fn cross_motion(a: &Spatial, b: &Spatial) -> Spatial {
    let (wa, va) = ([a[0], a[1], a[2]], [a[3], a[4], a[5]]);
    let (wb, vb) = ([b[0], b[1], b[2]], [b[3], b[4], b[5]]);
    let ang = cross3(wa, wb);
    let lin = add3(cross3(wa, vb), cross3(va, wb));
    [ang[0], ang[1], ang[2], lin[0], lin[1], lin[2]]
}

/// Spatial force cross product `a ×* f` (`crossForce`): `[ωa × n + va × f; ωa × f]`.
pub fn cross_force(a: &Spatial, f: &Spatial) -> Spatial {
    let (wa, va) = ([a[0], a[1], a[2]], [a[3], a[4], a[5]]);
    let (n, lin) = ([f[0], f[1], f[2]], [f[3], f[4], f[5]]);
    let ang = add3(cross3(wa, n), cross3(va, lin));
    let lin = cross3(wa, lin);
    [ang[0], ang[1], ang[2], lin[0], lin[1], lin[2]]
}

/// `a·b` over six entries (power of a force on a motion).
pub fn dot6(a: &Spatial, b: &Spatial) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `a + s·b`, in place.
pub fn add_scaled6(a: &mut Spatial, b: &Spatial, s: f64) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += s * y;
    }
}

/// A rigid body's spatial inertia about a com-frame origin `c` (MuJoCo's `cinert`):
/// the rotational inertia about `c` in world axes, the first moment `m·p` with
/// `p = xipos − c`, and the mass.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SpatialInertia {
    /// Symmetric rotational inertia about `c`: `[xx, yy, zz, xy, xz, yz]`.
    pub rot: [f64; 6],
    /// First moment of mass about `c`: `m·(xipos − c)`.
    pub first_moment: Vec3,
    /// Mass.
    pub mass: f64,
}

impl SpatialInertia {
    /// Inertia of a body of `mass` with principal moments `principal` along the columns of
    /// `ximat`, its centre of mass at `offset = xipos − c`: `I_c = R·diag(I)·Rᵀ + m(|p|²E − ppᵀ)`.
    pub fn of_body(mass: f64, principal: Vec3, ximat: &Mat3, offset: Vec3) -> Self {
        let r = ximat;
        let mut i_com = [[0.0; 3]; 3];
        for (a, row) in i_com.iter_mut().enumerate() {
            for (b, x) in row.iter_mut().enumerate() {
                *x = r[a][0] * principal[0] * r[b][0]
                    + r[a][1] * principal[1] * r[b][1]
                    + r[a][2] * principal[2] * r[b][2];
            }
        }
        let p = offset;
        let pp = dot3(p, p);
        Self {
            rot: [
                i_com[0][0] + mass * (pp - p[0] * p[0]),
                i_com[1][1] + mass * (pp - p[1] * p[1]),
                i_com[2][2] + mass * (pp - p[2] * p[2]),
                i_com[0][1] - mass * p[0] * p[1],
                i_com[0][2] - mass * p[0] * p[2],
                i_com[1][2] - mass * p[1] * p[2],
            ],
            first_moment: scale3(p, mass),
            mass,
        }
    }

    /// The force (momentum) of this inertia moving with `v = (ω, v₀)`:
    /// `[I_c·ω + (m·p) × v₀; m·v₀ − (m·p) × ω]`.
    pub fn mul_motion(&self, v: &Spatial) -> Spatial {
        let i = &self.rot;
        let (w, lin) = ([v[0], v[1], v[2]], [v[3], v[4], v[5]]);
        let iw = [
            i[0] * w[0] + i[3] * w[1] + i[4] * w[2],
            i[3] * w[0] + i[1] * w[1] + i[5] * w[2],
            i[4] * w[0] + i[5] * w[1] + i[2] * w[2],
        ];
        let ang = add3(iw, cross3(self.first_moment, lin));
        let lin = sub3(scale3(lin, self.mass), cross3(self.first_moment, w));
        [ang[0], ang[1], ang[2], lin[0], lin[1], lin[2]]
    }

    /// `self += other` (both about the same origin).
    pub fn add_assign(&mut self, other: &SpatialInertia) {
        for (a, b) in self.rot.iter_mut().zip(&other.rot) {
            *a += b;
        }
        for (a, b) in self.first_moment.iter_mut().zip(&other.first_moment) {
            *a += b;
        }
        self.mass += other.mass;
    }
}
