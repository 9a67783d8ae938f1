//! Consistency checks of a [`ModelSpec`], run by [`super::Model::new`] before anything is derived.

use super::error::SimError;
use super::model::{JointKind, ModelSpec, TransmissionSpec};

/// Relative slack of the inertia triangle inequality (MuJoCo's compiler allows rounding).
const TRIANGLE_SLACK: f64 = 1e-9;

/// Helper for validation messages.
pub(crate) struct Check<'a> {
    pub model: &'a str,
}

impl Check<'_> {
    pub fn invalid(&self, what: impl Into<String>, why: impl Into<String>) -> SimError {
        SimError::InvalidModel { model: self.model.to_string(), what: what.into(), why: why.into() }
    }

    pub fn unsupported(&self, feature: impl Into<String>) -> SimError {
        SimError::Unsupported { model: self.model.to_string(), feature: feature.into() }
    }

    pub fn finite(&self, what: &str, values: &[f64]) -> Result<(), SimError> {
        match values.iter().find(|v| !v.is_finite()) {
            Some(v) => Err(self.invalid(what, format!("{v} is not finite"))),
            None => Ok(()),
        }
    }

    pub fn non_negative(&self, what: &str, values: &[f64]) -> Result<(), SimError> {
        self.finite(what, values)?;
        match values.iter().find(|&&v| v < 0.0) {
            Some(v) => Err(self.invalid(what, format!("{v} is negative"))),
            None => Ok(()),
        }
    }

    pub fn unit_quat(&self, what: &str, q: &[f64]) -> Result<(), SimError> {
        self.finite(what, q)?;
        let norm = q.iter().map(|x| x * x).sum::<f64>().sqrt();
        if (norm - 1.0).abs() > 1e-9 {
            return Err(self.invalid(what, format!("quaternion {q:?} has norm {norm}, not 1")));
        }
        Ok(())
    }

    pub fn index(&self, what: &str, index: usize, len: usize) -> Result<(), SimError> {
        if index >= len {
            return Err(self.invalid(what, format!("index {index} is out of range (there are {len})")));
        }
        Ok(())
    }
}

/// Every constant finite and in range, indices valid, the tree ordered.
pub(crate) fn validate(spec: &ModelSpec, check: &Check<'_>) -> Result<(), SimError> {
    let opt = &spec.options;
    if !(opt.timestep.is_finite() && opt.timestep > 0.0) {
        return Err(check.invalid("option.timestep", format!("{} must be finite and > 0", opt.timestep)));
    }
    check.finite("option.gravity", &opt.gravity)?;
    validate_bodies(spec, check)?;
    validate_joints(spec, check)?;
    validate_actuators(spec, check)?;
    for (kind, frames) in [("geom", &spec.geoms), ("site", &spec.sites)] {
        for (i, f) in frames.iter().enumerate() {
            let what = format!("{kind} {i} ({})", f.name);
            check.index(&format!("{what} body"), f.body, spec.bodies.len())?;
            check.finite(&format!("{what} pos"), &f.pos)?;
            check.unit_quat(&format!("{what} quat"), &f.quat)?;
            check.non_negative(&format!("{what} size"), &f.size)?;
        }
    }
    Ok(())
}

fn validate_bodies(spec: &ModelSpec, check: &Check<'_>) -> Result<(), SimError> {
    let Some(world) = spec.bodies.first() else {
        return Err(check.invalid("bodies", "there must be at least the world body"));
    };
    let identity = world.pos == [0.0; 3] && world.quat == [1.0, 0.0, 0.0, 0.0];
    if world.mass != 0.0 || !identity {
        return Err(check.invalid("body 0 (world)", "must have zero mass and the identity pose"));
    }
    for (b, body) in spec.bodies.iter().enumerate().skip(1) {
        let what = |field: &str| format!("body {b} ({}) {field}", body.name);
        if body.parent >= b {
            return Err(check.invalid(what("parent"), format!("{} must come before the body", body.parent)));
        }
        check.finite(&what("pos"), &body.pos)?;
        check.unit_quat(&what("quat"), &body.quat)?;
        check.non_negative(&what("mass"), &[body.mass])?;
        check.non_negative(&what("inertia"), &body.inertia)?;
        let [a, b2, c] = body.inertia;
        let slack = TRIANGLE_SLACK * (a + b2 + c);
        if a + b2 + slack < c || a + c + slack < b2 || b2 + c + slack < a {
            return Err(check.invalid(what("inertia"), format!("{:?} violates the triangle inequality", body.inertia)));
        }
        check.finite(&what("ipos"), &body.ipos)?;
        check.unit_quat(&what("iquat"), &body.iquat)?;
    }
    Ok(())
}

fn validate_joints(spec: &ModelSpec, check: &Check<'_>) -> Result<(), SimError> {
    let mut previous_body = 0;
    for (j, joint) in spec.joints.iter().enumerate() {
        let what = |field: &str| format!("joint {j} ({}) {field}", joint.name);
        check.index(&what("body"), joint.body, spec.bodies.len())?;
        if joint.body == 0 || joint.body < previous_body {
            return Err(check.invalid(what("body"), "joints must move non-world bodies and be listed in body order"));
        }
        previous_body = joint.body;
        check.finite(&what("pos"), &joint.pos)?;
        check.finite(&what("axis"), &joint.axis)?;
        check.non_negative(&what("damping"), &[joint.damping])?;
        check.non_negative(&what("armature"), &[joint.armature])?;
        check.non_negative(&what("stiffness"), &[joint.stiffness])?;
        check.finite(&what("springref"), &[joint.springref])?;
        match joint.kind {
            JointKind::Hinge | JointKind::Slide => {
                let norm = joint.axis.iter().map(|x| x * x).sum::<f64>().sqrt();
                if (norm - 1.0).abs() > 1e-9 {
                    return Err(check.invalid(what("axis"), format!("{:?} is not a unit vector", joint.axis)));
                }
            }
            JointKind::Free => {
                let first_of_body = j == 0 || spec.joints[j - 1].body != joint.body;
                let alone = spec.joints.get(j + 1).is_none_or(|next| next.body != joint.body);
                if spec.bodies[joint.body].parent != 0 || !first_of_body || !alone {
                    return Err(
                        check.invalid(what("type"), "a free joint must be the only joint of a child of the world")
                    );
                }
            }
            JointKind::Ball => {}
        }
        let rotational = matches!(joint.kind, JointKind::Free | JointKind::Ball);
        if rotational && joint.stiffness != 0.0 {
            return Err(check.unsupported(format!("a spring on ball/free joint `{}`", joint.name)));
        }
        if let Some(limit) = &joint.limit {
            if rotational {
                return Err(check.unsupported(format!("a limit on ball/free joint `{}`", joint.name)));
            }
            check.finite(&what("range"), &limit.range)?;
            if limit.range[0] >= limit.range[1] {
                return Err(check.invalid(what("range"), format!("{:?} must have low < high", limit.range)));
            }
            check.finite(&what("solref"), &limit.solref)?;
            if limit.solref[0] <= 0.0 || limit.solref[1] <= 0.0 {
                return Err(check.unsupported(format!("direct (non-positive) solref on joint `{}`", joint.name)));
            }
            check.non_negative(&what("solimp"), &limit.solimp)?;
            check.non_negative(&what("margin"), &[limit.margin])?;
        }
    }
    Ok(())
}

fn validate_actuators(spec: &ModelSpec, check: &Check<'_>) -> Result<(), SimError> {
    for (a, act) in spec.actuators.iter().enumerate() {
        let what = |field: &str| format!("actuator {a} ({}) {field}", act.name);
        let joints: Vec<(usize, f64)> = match &act.transmission {
            TransmissionSpec::Joint(j) => vec![(*j, 1.0)],
            TransmissionSpec::FixedTendon(terms) => terms.clone(),
        };
        for (j, coef) in joints {
            check.index(&what("transmission"), j, spec.joints.len())?;
            check.finite(&what("tendon coefficient"), &[coef])?;
            if !matches!(spec.joints[j].kind, JointKind::Hinge | JointKind::Slide) {
                return Err(check.unsupported(format!("actuator `{}` on a ball/free joint", act.name)));
            }
        }
        check.finite(&what("gear"), &[act.gear])?;
        check.finite(&what("gain"), &[act.gain])?;
        for (field, range) in [("ctrlrange", act.ctrl_range), ("forcerange", act.force_range)] {
            if let Some(r) = range {
                check.finite(&what(field), &r)?;
                if r[0] > r[1] {
                    return Err(check.invalid(what(field), format!("{r:?} must have low <= high")));
                }
            }
        }
    }
    Ok(())
}

/// `qpos0` finite, with unit quaternions where ball and free joints keep theirs.
pub(crate) fn validate_qpos0(spec: &ModelSpec, jnt_qposadr: &[usize], check: &Check<'_>) -> Result<(), SimError> {
    check.finite("qpos0", &spec.qpos0)?;
    for (joint, &adr) in spec.joints.iter().zip(jnt_qposadr) {
        let quat_at = match joint.kind {
            JointKind::Free => adr + 3,
            JointKind::Ball => adr,
            JointKind::Slide | JointKind::Hinge => continue,
        };
        check.unit_quat(&format!("qpos0 of joint `{}`", joint.name), &spec.qpos0[quat_at..quat_at + 4])?;
    }
    Ok(())
}
