//! Narrow-phase collision of the primitive pairs the planar locomotion models need (MuJoCo's
//! `engine_collision_primitive.c`, `mju_makeFrame`), on world-frame geom poses.
//!
//! - **Plane–sphere:** `dist = (c − p₀)·n − r` with `n` the plane's z axis; point `c − n·(r + dist/2)`.
//! - **Plane–capsule:** two plane–sphere tests at `c + hl·a` and `c − hl·a` (in that order), with the
//!   capsule axis `a` as the first tangent hint of the contact frame.
//! - **Sphere/capsule pairs:** closest points of the centres or segments, then the sphere–sphere rule
//!   `n = (c₂ − c₁)/|c₂ − c₁|`, `dist = |c₂ − c₁| − r₁ − r₂`, point `c₁ + n·(r₁ + dist/2)`.
//!
//! A contact is generated when `dist ≤ margin`. Planes are infinite. The contact frame is
//! row 0 = the normal (from geom 1 to geom 2), rows 1–2 the tangents (`mju_makeFrame`).

use super::spatial::{add3, cross3, dot3, norm3, scale3, sub3, Mat3, Vec3};

/// A collision shape with its size parameters (m).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GeomShape {
    /// An infinite plane through the geom origin, normal along the geom's z axis.
    Plane,
    /// A sphere of this radius.
    Sphere {
        /// Radius.
        radius: f64,
    },
    /// A capsule along the geom's z axis: a segment of half-length `half_length`, swept by `radius`.
    Capsule {
        /// Radius.
        radius: f64,
        /// Half-length of the axis segment.
        half_length: f64,
    },
}

impl GeomShape {
    /// MuJoCo's type order (`mjtGeom`): the lower type is geom 1 of a pair.
    pub(crate) fn type_rank(self) -> u8 {
        match self {
            GeomShape::Plane => 0,
            GeomShape::Sphere { .. } => 2,
            GeomShape::Capsule { .. } => 3,
        }
    }
}

/// Geometry of one contact point, before constraint parameters are attached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContactPoint {
    /// Signed distance (negative = penetration), m.
    pub dist: f64,
    /// Contact point (midway between the surfaces), world frame.
    pub pos: Vec3,
    /// Row 0: unit normal from geom 1 to geom 2; rows 1–2: tangents.
    pub frame: Mat3,
}

/// A geom's world pose: position and rotation matrix (row-major; its columns are the local axes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeomPose {
    /// Origin.
    pub pos: Vec3,
    /// Orientation.
    pub mat: Mat3,
}

impl GeomPose {
    fn z_axis(&self) -> Vec3 {
        [self.mat[0][2], self.mat[1][2], self.mat[2][2]]
    }
}

/// Smallest length treated as nonzero (MuJoCo's `mjMINVAL`).
const MIN_VAL: f64 = 1e-15;

/// MuJoCo's `mju_makeFrame`: row 0 = `normal` (normalised), row 1 = `tangent` made orthogonal to it
/// (or (0, 1, 0) / (0, 0, 1) if no usable tangent is given), row 2 = row 0 × row 1.
pub fn make_frame(normal: Vec3, tangent: Option<Vec3>) -> Mat3 {
    let x = scale3(normal, 1.0 / norm3(normal).max(MIN_VAL));
    let default = || if x[1].abs() < 0.5 { [0.0, 1.0, 0.0] } else { [0.0, 0.0, 1.0] };
    let orthogonalize = |t: Vec3| sub3(t, scale3(x, dot3(x, t)));
    let mut y = match tangent {
        Some(t) if norm3(t) >= 0.5 => orthogonalize(t),
        _ => orthogonalize(default()),
    };
    if norm3(y) < 1e-9 {
        // The hint is parallel to the normal: fall back to the default axis.
        y = orthogonalize(default());
    }
    let y = scale3(y, 1.0 / norm3(y));
    [x, y, cross3(x, y)]
}

/// Plane–sphere: a contact if `dist ≤ margin`.
pub fn plane_sphere(
    plane: &GeomPose,
    centre: Vec3,
    radius: f64,
    margin: f64,
    tangent: Option<Vec3>,
) -> Option<ContactPoint> {
    let n = plane.z_axis();
    let dist = dot3(sub3(centre, plane.pos), n) - radius;
    (dist <= margin).then(|| ContactPoint {
        dist,
        pos: sub3(centre, scale3(n, radius + dist / 2.0)),
        frame: make_frame(n, tangent),
    })
}

/// Plane–capsule: the two end spheres, `+axis` end first.
pub fn plane_capsule(
    plane: &GeomPose,
    capsule: &GeomPose,
    radius: f64,
    half_length: f64,
    margin: f64,
) -> [Option<ContactPoint>; 2] {
    let axis = capsule.z_axis();
    let segment = scale3(axis, half_length);
    [
        plane_sphere(plane, add3(capsule.pos, segment), radius, margin, Some(axis)),
        plane_sphere(plane, sub3(capsule.pos, segment), radius, margin, Some(axis)),
    ]
}

/// Two spheres (also used for the closest points of capsule segments).
pub fn sphere_sphere(c1: Vec3, r1: f64, c2: Vec3, r2: f64, margin: f64) -> Option<ContactPoint> {
    let delta = sub3(c2, c1);
    let length = norm3(delta);
    let dist = length - r1 - r2;
    if dist > margin {
        return None;
    }
    // Coincident centres: MuJoCo picks the x axis.
    let n = if length < MIN_VAL { [1.0, 0.0, 0.0] } else { scale3(delta, 1.0 / length) };
    Some(ContactPoint { dist, pos: add3(c1, scale3(n, r1 + dist / 2.0)), frame: make_frame(n, None) })
}

/// Closest point to `p` on the segment `centre ± half·axis`.
pub fn closest_on_segment(centre: Vec3, axis: Vec3, half: f64, p: Vec3) -> Vec3 {
    let t = dot3(sub3(p, centre), axis).clamp(-half, half);
    add3(centre, scale3(axis, t))
}

/// Closest points between segments `c1 ± h1·a1` and `c2 ± h2·a2` (unit axes).
pub fn closest_segments(c1: Vec3, a1: Vec3, h1: f64, c2: Vec3, a2: Vec3, h2: f64) -> (Vec3, Vec3) {
    let d = sub3(c1, c2);
    let b = dot3(a1, a2);
    let (e, f) = (dot3(a1, d), dot3(a2, d));
    let denom = 1.0 - b * b;
    // Parameter on segment 1 for the infinite lines, clamped; then project back and forth.
    let s = if denom > 1e-12 { ((b * f - e) / denom).clamp(-h1, h1) } else { 0.0 };
    let t_free = b * s + f;
    let t = t_free.clamp(-h2, h2);
    // Only if t had to be clamped does s move again (Ericson, Real-Time Collision Detection §5.1.9).
    let s = if t == t_free { s } else { (b * t - e).clamp(-h1, h1) };
    (add3(c1, scale3(a1, s)), add3(c2, scale3(a2, t)))
}

/// Collide two geoms given in type order (`shape1.type_rank() ≤ shape2.type_rank()`); up to 2 contacts.
pub fn collide(
    shape1: GeomShape,
    pose1: &GeomPose,
    shape2: GeomShape,
    pose2: &GeomPose,
    margin: f64,
) -> [Option<ContactPoint>; 2] {
    use GeomShape::{Capsule, Plane, Sphere};
    match (shape1, shape2) {
        (Plane, Sphere { radius }) => [plane_sphere(pose1, pose2.pos, radius, margin, None), None],
        (Plane, Capsule { radius, half_length }) => plane_capsule(pose1, pose2, radius, half_length, margin),
        (Sphere { radius: r1 }, Sphere { radius: r2 }) => [sphere_sphere(pose1.pos, r1, pose2.pos, r2, margin), None],
        (Sphere { radius: r1 }, Capsule { radius: r2, half_length }) => {
            let p2 = closest_on_segment(pose2.pos, pose2.z_axis(), half_length, pose1.pos);
            [sphere_sphere(pose1.pos, r1, p2, r2, margin), None]
        }
        (Capsule { radius: r1, half_length: h1 }, Capsule { radius: r2, half_length: h2 }) => {
            let (p1, p2) = closest_segments(pose1.pos, pose1.z_axis(), h1, pose2.pos, pose2.z_axis(), h2);
            [sphere_sphere(p1, r1, p2, r2, margin), None]
        }
        // Plane–plane never collides; other orders are excluded when the pair list is built.
        _ => [None, None],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::spatial::MAT3_IDENTITY;

    #[test]
    fn default_frame_for_an_upward_normal() {
        // Design notes §3.6: for n = +z, t₁ = (0, 1, 0) and t₂ = (−1, 0, 0).
        let f = make_frame([0.0, 0.0, 1.0], None);
        assert_eq!(f, [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]);
    }

    #[test]
    fn segments_closest_points() {
        // Crossing segments: x axis at z = 0 and y axis at z = 1 meet their closest points at the origins.
        let (p, q) = closest_segments([0.0; 3], [1.0, 0.0, 0.0], 1.0, [0.0, 0.0, 1.0], [0.0, 1.0, 0.0], 1.0);
        assert_eq!((p, q), ([0.0; 3], [0.0, 0.0, 1.0]));
        // Parallel segments [−1, 1] and [2, 4] along x, 1 apart in z: the facing ends (1, 0, 0) and (2, 0, 1).
        let (p, q) = closest_segments([0.0; 3], [1.0, 0.0, 0.0], 1.0, [3.0, 0.0, 1.0], [1.0, 0.0, 0.0], 1.0);
        assert_eq!((p, q), ([1.0, 0.0, 0.0], [2.0, 0.0, 1.0]));
        let plane = GeomPose { pos: [0.0; 3], mat: MAT3_IDENTITY };
        assert!(plane_sphere(&plane, [0.0, 0.0, 0.3], 0.2, 0.0, None).is_none());
    }
}
