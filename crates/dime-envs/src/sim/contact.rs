//! Contacts: the collision properties of geoms, the candidate geom pairs of a model, and
//! collision detection on the current kinematics (MuJoCo's `mj_collision` for the primitives in
//! [`super::collision`]).
//!
//! Candidate pairs are fixed when the model is built, by MuJoCo's filters: geoms in the same weld
//! group (a jointless body belongs to its parent's group) never collide, nor do groups that are
//! parent and child unless the parent is the world; a remaining pair is kept when
//! `(contype₁ & conaffinity₂) | (contype₂ & conaffinity₁)` is nonzero. Pair parameters are mixed
//! as MuJoCo does with `solmix = 1`: friction and condim the element-wise maximum, solref and
//! solimp the mean, margins the sum. Contacts come out in pair order (geom indices ascending),
//! geom 1 the lower shape type.

use super::collision::{collide, GeomPose, GeomShape};
use super::data::Data;
use super::error::SimError;
use super::model::{Check, ModelSpec};
use super::spatial::{add3, dot3, mat_vec, quat_mul, quat_to_mat, sub3, Mat3, Vec3};

/// Collision properties of one geom (MuJoCo `geom_*` fields).
#[derive(Debug, Clone, PartialEq)]
pub struct GeomCollision {
    /// Shape, or `None` for a shape the engine cannot collide (refused if it is in a candidate pair).
    pub shape: Option<GeomShape>,
    /// MuJoCo type name, for messages.
    pub type_name: String,
    /// Contact type bits.
    pub contype: u32,
    /// Contact affinity bits.
    pub conaffinity: u32,
    /// Contact dimensionality: 1 (frictionless) or 3 (sliding friction).
    pub condim: u32,
    /// Friction coefficients (sliding, torsional, rolling); only sliding is used with condim 3.
    pub friction: [f64; 3],
    /// `(timeconst, dampratio)` of the contact spring-damper.
    pub solref: [f64; 2],
    /// `(d0, dmax, width, midpoint, power)` of the impedance curve.
    pub solimp: [f64; 5],
    /// Distance at which contacts activate (m, ≥ 0).
    pub margin: f64,
}

/// Everything about contacts that a [`ModelSpec`] does not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactSpec {
    /// One entry per geom of the spec, in the same order.
    pub geoms: Vec<GeomCollision>,
    /// Ratio of frictional to normal impedance (MuJoCo `impratio`), > 0.
    pub impratio: f64,
}

/// A candidate pair with its mixed parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GeomPair {
    pub geom1: usize,
    pub geom2: usize,
    pub shape1: GeomShape,
    pub shape2: GeomShape,
    pub body1: usize,
    pub body2: usize,
    pub condim: u32,
    /// Sliding friction μ (both tangent directions).
    pub mu: f64,
    pub solref: [f64; 2],
    pub solimp: [f64; 5],
    pub margin: f64,
}

/// The contact part of a model: per-geom properties and the candidate pairs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Collision {
    pub geoms: Vec<GeomCollision>,
    pub pairs: Vec<GeomPair>,
    pub impratio: f64,
    /// Upper bound on simultaneous contacts.
    pub max_contacts: usize,
}

/// One active contact of the current state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contact {
    /// Geom with the lower shape type (the normal points away from it).
    pub geom1: usize,
    /// The other geom.
    pub geom2: usize,
    /// Body of geom 1.
    pub body1: usize,
    /// Body of geom 2.
    pub body2: usize,
    /// Signed distance (negative = penetration), m.
    pub dist: f64,
    /// Contact point midway between the surfaces.
    pub pos: Vec3,
    /// Row 0: normal from geom 1 to geom 2; rows 1–2: tangents.
    pub frame: Mat3,
    /// 1 or 3.
    pub condim: u32,
    /// Sliding friction coefficient.
    pub mu: f64,
    /// Mixed solref.
    pub solref: [f64; 2],
    /// Mixed solimp.
    pub solimp: [f64; 5],
    /// Summed margin.
    pub margin: f64,
    /// First constraint row of this contact.
    pub efc_address: usize,
}

/// Weld group of every body: itself if it has joints (or is the world), else its parent's group.
pub(crate) fn weld_groups(spec: &ModelSpec) -> Vec<usize> {
    let mut weld = vec![0; spec.bodies.len()];
    for b in 1..spec.bodies.len() {
        let has_joint = spec.joints.iter().any(|j| j.body == b);
        weld[b] = if has_joint { b } else { weld[spec.bodies[b].parent] };
    }
    weld
}

/// Check the contact spec and derive the candidate pairs.
pub(crate) fn build_collision(
    spec: &ModelSpec,
    contact: ContactSpec,
    check: &Check<'_>,
) -> Result<Collision, SimError> {
    if contact.geoms.len() != spec.geoms.len() {
        return Err(check
            .invalid("contact geoms", format!("has {} entries for {} geoms", contact.geoms.len(), spec.geoms.len())));
    }
    if !(contact.impratio.is_finite() && contact.impratio > 0.0) {
        return Err(check.invalid("impratio", format!("{} must be finite and > 0", contact.impratio)));
    }
    for (g, geom) in contact.geoms.iter().enumerate() {
        let what = format!("geom {g} ({})", spec.geoms[g].name);
        check.non_negative(&format!("{what} friction"), &geom.friction)?;
        check.non_negative(&format!("{what} margin"), &[geom.margin])?;
        check.finite(&format!("{what} solimp"), &geom.solimp)?;
        if !(geom.solref[0] > 0.0 && geom.solref[1] > 0.0 && geom.solref.iter().all(|v| v.is_finite())) {
            return Err(check.unsupported(format!(
                "contacts with solref {:?} on {what} (only positive timeconst/dampratio)",
                geom.solref
            )));
        }
    }
    let weld = weld_groups(spec);
    let parent_weld = |w: usize| weld[spec.bodies[w].parent];
    let mut pairs = Vec::new();
    for i in 0..contact.geoms.len() {
        for j in i + 1..contact.geoms.len() {
            let (gi, gj) = (&contact.geoms[i], &contact.geoms[j]);
            let (wi, wj) = (weld[spec.geoms[i].body], weld[spec.geoms[j].body]);
            let parent_child = wi != 0 && wj != 0 && (parent_weld(wi) == wj || parent_weld(wj) == wi);
            let compatible = (gi.contype & gj.conaffinity) | (gj.contype & gi.conaffinity) != 0;
            if wi == wj || parent_child || !compatible {
                continue;
            }
            let (Some(si), Some(sj)) = (gi.shape, gj.shape) else {
                let name = if gi.shape.is_none() { &gi.type_name } else { &gj.type_name };
                return Err(check.unsupported(format!("contacts involving `{name}` geoms")));
            };
            if si == GeomShape::Plane && sj == GeomShape::Plane {
                continue;
            }
            let ((a, shape1), (b, shape2)) =
                if si.type_rank() <= sj.type_rank() { ((i, si), (j, sj)) } else { ((j, sj), (i, si)) };
            let (ga, gb) = (&contact.geoms[a], &contact.geoms[b]);
            let condim = ga.condim.max(gb.condim);
            if condim != 1 && condim != 3 {
                return Err(check.unsupported(format!("contacts with condim {condim} (only 1 and 3)")));
            }
            let mean = |x: f64, y: f64| 0.5 * (x + y);
            pairs.push(GeomPair {
                geom1: a,
                geom2: b,
                shape1,
                shape2,
                body1: spec.geoms[a].body,
                body2: spec.geoms[b].body,
                condim,
                mu: ga.friction[0].max(gb.friction[0]),
                solref: [mean(ga.solref[0], gb.solref[0]), mean(ga.solref[1], gb.solref[1])],
                solimp: std::array::from_fn(|k| mean(ga.solimp[k], gb.solimp[k])),
                margin: ga.margin + gb.margin,
            });
        }
    }
    let max_contacts = pairs
        .iter()
        .map(|p| match contact.geoms[p.geom2].shape {
            Some(GeomShape::Capsule { .. }) if contact.geoms[p.geom1].shape == Some(GeomShape::Plane) => 2,
            _ => 1,
        })
        .sum();
    Ok(Collision { geoms: contact.geoms, pairs, impratio: contact.impratio, max_contacts })
}

/// Radius of a sphere around the geom origin that contains the shape (infinite for a plane).
fn bounding_radius(shape: GeomShape) -> f64 {
    match shape {
        GeomShape::Plane => f64::INFINITY,
        GeomShape::Sphere { radius } => radius,
        GeomShape::Capsule { radius, half_length } => radius + half_length,
    }
}

/// Whether the bounding spheres (or sphere and plane) are farther apart than `margin`: then the
/// narrow phase cannot find a contact, since every `dist` it reports is at least this gap.
fn bounds_apart(shape1: GeomShape, pose1: &GeomPose, shape2: GeomShape, pose2: &GeomPose, margin: f64) -> bool {
    if shape1 == GeomShape::Plane {
        let normal = [pose1.mat[0][2], pose1.mat[1][2], pose1.mat[2][2]];
        dot3(sub3(pose2.pos, pose1.pos), normal) - bounding_radius(shape2) > margin
    } else {
        // |c₂ − c₁| − r₁ − r₂ > margin, compared squared (no square root).
        let delta = sub3(pose2.pos, pose1.pos);
        let reach = bounding_radius(shape1) + bounding_radius(shape2) + margin;
        dot3(delta, delta) > reach * reach
    }
}

impl Data {
    /// Collision detection on the current kinematics: fills `contacts` in pair order.
    pub(crate) fn collide(&mut self, model: &super::model::Model) {
        self.contacts.clear();
        let Some(collision) = &model.collision else { return };
        // Orientations: a plane's now (the bounding test reads its normal), a capsule's once a pair
        // of it passes that test, a sphere's never (collision reads only its centre).
        for (g, pose) in self.geom_poses.iter_mut().enumerate() {
            let Some(shape) = collision.geoms[g].shape else { continue };
            let geom = &model.spec.geoms[g];
            pose.pos = add3(self.xpos[geom.body], mat_vec(&self.xmat[geom.body], geom.pos));
            self.geom_mat_ready[g] = shape == GeomShape::Plane;
            if shape == GeomShape::Plane {
                pose.mat = quat_to_mat(quat_mul(self.xquat[geom.body], geom.quat));
            }
        }
        for pair in &collision.pairs {
            let (g1, g2, shape1, shape2) = (pair.geom1, pair.geom2, pair.shape1, pair.shape2);
            if bounds_apart(shape1, &self.geom_poses[g1], shape2, &self.geom_poses[g2], pair.margin) {
                continue;
            }
            for (g, shape) in [(g1, shape1), (g2, shape2)] {
                if matches!(shape, GeomShape::Capsule { .. }) && !self.geom_mat_ready[g] {
                    let geom = &model.spec.geoms[g];
                    self.geom_poses[g].mat = quat_to_mat(quat_mul(self.xquat[geom.body], geom.quat));
                    self.geom_mat_ready[g] = true;
                }
            }
            let (pose1, pose2) = (&self.geom_poses[g1], &self.geom_poses[g2]);
            for point in collide(shape1, pose1, shape2, pose2, pair.margin).into_iter().flatten() {
                self.contacts.push(Contact {
                    geom1: g1,
                    geom2: g2,
                    body1: pair.body1,
                    body2: pair.body2,
                    dist: point.dist,
                    pos: point.pos,
                    frame: point.frame,
                    condim: pair.condim,
                    mu: pair.mu,
                    solref: pair.solref,
                    solimp: pair.solimp,
                    margin: pair.margin,
                    efc_address: 0,
                });
            }
        }
    }
}
