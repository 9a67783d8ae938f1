//! Build a [`Model`] from a MuJoCo model dump (`model_dmc_<domain>.json`).
//!
//! Everything the dump says that affects the dynamics is either used or refused:
//! integrators other than Euler and RK4, contacts the engine cannot compute (shapes other than
//! plane, sphere and capsule, elliptic cones, condim other than 1 and 3, noslip, explicit pairs
//! and excludes, geom priorities, solmix ≠ 1, gap ≠ 0), fluid forces, equality constraints,
//! activation dynamics, non-motor actuators, dry friction, and tendons with their own springs,
//! damping or limits are [`SimError::Unsupported`]. Addresses and counts in the dump must agree
//! with the ones the engine derives.

use super::collision::GeomShape;
use super::contact::{ContactSpec, GeomCollision};
use super::error::SimError;
use super::model::{
    ActuatorSpec, BodySpec, Check, FrameSpec, Integrator, JointKind, JointSpec, LimitSpec, Model, ModelSpec,
    SimOptions, TransmissionSpec,
};
use super::model_file::{ActuatorRecord, ModelFile};

/// `mjtDisableBit` values the engine understands.
const DISABLE_CONSTRAINT: u32 = 1;
const DISABLE_LIMIT: u32 = 8;
const DISABLE_CONTACT: u32 = 16;
/// `mjtEnableBit` energy: computes energy, no effect on the dynamics.
const ENABLE_ENERGY: u32 = 2;
/// `mjtTrn` codes.
const TRN_JOINT: i64 = 0;
const TRN_TENDON: i64 = 3;
/// `mjtWrap` joint: a fixed-tendon term.
const WRAP_JOINT: i64 = 1;

impl Model {
    /// Parse a MuJoCo model dump and build the model (`name` is used in messages).
    pub fn from_mujoco_json(name: &str, json: &str) -> Result<Model, SimError> {
        let file: ModelFile = serde_json::from_str(json)
            .map_err(|e| SimError::ModelFormat { model: name.to_string(), message: e.to_string() })?;
        let spec = spec_from_file(name, &file)?;
        let check = Check { model: name };
        match contact_spec_from_file(&file, &check)? {
            None => Model::new(spec),
            Some(contact) => {
                let sweeps = usize::try_from(file.option.iterations)
                    .map_err(|_| check.invalid("option.iterations", "is negative"))?;
                Model::with_contacts(spec, contact, sweeps)
            }
        }
    }
}

/// MuJoCo's geom type names the engine can collide.
fn shape_from_record(g: &super::model_file::GeomRecord) -> Option<GeomShape> {
    match g.kind.as_str() {
        "plane" => Some(GeomShape::Plane),
        "sphere" => Some(GeomShape::Sphere { radius: g.size[0] }),
        "capsule" => Some(GeomShape::Capsule { radius: g.size[0], half_length: g.size[1] }),
        _ => None,
    }
}

/// The contact part of the model, or `None` when contacts are disabled or no geom can collide.
fn contact_spec_from_file(file: &ModelFile, check: &Check<'_>) -> Result<Option<ContactSpec>, SimError> {
    let opt = &file.option;
    let contacts_off = opt.disableflags & (DISABLE_CONSTRAINT | DISABLE_CONTACT) != 0;
    let colliding: Vec<_> = file.geoms.iter().filter(|g| g.contype != 0 || g.conaffinity != 0).collect();
    if contacts_off || colliding.is_empty() {
        return Ok(None);
    }
    if opt.cone != 0 {
        return Err(check.unsupported("contacts with elliptic friction cones"));
    }
    if opt.noslip_iterations != 0 {
        return Err(check.unsupported("contacts with a noslip solver pass"));
    }
    if file.npair != 0 || file.nexclude != 0 {
        return Err(check.unsupported("contacts with explicit pairs or excludes"));
    }
    for g in colliding {
        if g.geom_priority != 0 || g.geom_solmix != 1.0 || g.geom_gap != 0.0 {
            return Err(check.unsupported(format!("contacts of geom `{}` with priority, solmix or gap", g.name)));
        }
    }
    let geoms = file
        .geoms
        .iter()
        .map(|g| GeomCollision {
            shape: shape_from_record(g),
            type_name: g.kind.clone(),
            contype: g.contype,
            conaffinity: g.conaffinity,
            condim: g.condim,
            friction: g.friction,
            solref: g.solref,
            solimp: g.solimp,
            margin: g.margin,
        })
        .collect();
    Ok(Some(ContactSpec { geoms, impratio: opt.impratio }))
}

fn spec_from_file(name: &str, file: &ModelFile) -> Result<ModelSpec, SimError> {
    let check = Check { model: name };
    let counts = [
        ("nbody", file.nbody, file.bodies.len()),
        ("njnt", file.njnt, file.joints.len()),
        ("nv", file.nv, file.dofs.len()),
        ("nq", file.nq, file.qpos0.len()),
        ("nu", file.nu, file.actuators.len()),
        ("ngeom", file.ngeom, file.geoms.len()),
        ("nsite", file.nsite, file.sites.len()),
        ("ntendon", file.ntendon, file.tendons.len()),
        ("nwrap", file.nwrap, file.wraps.len()),
    ];
    for (field, declared, listed) in counts {
        if declared != listed {
            return Err(check.invalid(field, format!("says {declared} but the file lists {listed}")));
        }
    }
    let options = options_from_file(file, &check)?;
    let bodies = file
        .bodies
        .iter()
        .map(|b| BodySpec {
            name: b.name.clone(),
            parent: b.parent,
            pos: b.pos,
            quat: b.quat,
            mass: b.mass,
            inertia: b.inertia,
            ipos: b.ipos,
            iquat: b.iquat,
        })
        .collect();
    let joints = joints_from_file(file, &check)?;
    let actuators =
        file.actuators.iter().map(|a| actuator_from_file(file, a, &check)).collect::<Result<Vec<_>, _>>()?;
    let geoms = file
        .geoms
        .iter()
        .map(|g| FrameSpec { name: g.name.clone(), body: g.body, pos: g.pos, quat: g.quat, size: g.size })
        .collect();
    let sites = file
        .sites
        .iter()
        .map(|s| FrameSpec { name: s.name.clone(), body: s.body, pos: s.pos, quat: s.site_quat, size: s.site_size })
        .collect();
    let spec = ModelSpec {
        name: name.to_string(),
        options,
        bodies,
        joints,
        actuators,
        geoms,
        sites,
        qpos0: file.qpos0.clone(),
    };
    check_addresses(file, &spec, &check)?;
    Ok(spec)
}

fn options_from_file(file: &ModelFile, check: &Check<'_>) -> Result<SimOptions, SimError> {
    let opt = &file.option;
    let integrator = match opt.integrator {
        0 => Integrator::Euler,
        1 => Integrator::Rk4,
        other => return Err(check.unsupported(format!("integrator code {other}"))),
    };
    let known = DISABLE_CONSTRAINT | DISABLE_LIMIT | DISABLE_CONTACT;
    if opt.disableflags & !known != 0 {
        return Err(check.unsupported(format!("disableflags {:#x}", opt.disableflags & !known)));
    }
    if opt.enableflags & !ENABLE_ENERGY != 0 {
        return Err(check.unsupported(format!("enableflags {:#x}", opt.enableflags & !ENABLE_ENERGY)));
    }
    let constraints_off = opt.disableflags & DISABLE_CONSTRAINT != 0;
    if opt.density != 0.0 || opt.viscosity != 0.0 || opt.wind != [0.0; 3] {
        return Err(check.unsupported("fluid forces (density, viscosity, wind)"));
    }
    if file.neq != 0 {
        return Err(check.unsupported("equality constraints"));
    }
    if file.na != 0 {
        return Err(check.unsupported("actuator activation states"));
    }
    Ok(SimOptions {
        timestep: opt.timestep,
        gravity: opt.gravity,
        integrator,
        joint_limits: !constraints_off && opt.disableflags & DISABLE_LIMIT == 0,
    })
}

fn joints_from_file(file: &ModelFile, check: &Check<'_>) -> Result<Vec<JointSpec>, SimError> {
    let mut joints = Vec::with_capacity(file.joints.len());
    for (j, rec) in file.joints.iter().enumerate() {
        let kind = match rec.kind.as_str() {
            "free" => JointKind::Free,
            "ball" => JointKind::Ball,
            "slide" => JointKind::Slide,
            "hinge" => JointKind::Hinge,
            other => return Err(check.invalid(format!("joint {j} ({}) type", rec.name), format!("unknown `{other}`"))),
        };
        let dofs = file.dofs.get(rec.dofadr..rec.dofadr + kind.nv()).unwrap_or(&[]);
        let Some(first) = dofs.first() else {
            return Err(check.invalid(format!("joint {j} ({}) dofadr", rec.name), "points past the dof list"));
        };
        if dofs.iter().any(|d| d.damping != first.damping || d.armature != first.armature || d.dof_jntid != j) {
            return Err(check.invalid(format!("joint {j} ({}) dofs", rec.name), "disagree on damping/armature/joint"));
        }
        if dofs.iter().any(|d| d.frictionloss != 0.0) {
            return Err(check.unsupported(format!("dry friction (frictionloss) on joint `{}`", rec.name)));
        }
        let springref = match kind {
            JointKind::Hinge | JointKind::Slide => rec.springref.first().copied().unwrap_or(0.0),
            JointKind::Ball | JointKind::Free => 0.0,
        };
        joints.push(JointSpec {
            name: rec.name.clone(),
            kind,
            body: rec.body,
            pos: rec.pos,
            axis: rec.axis,
            limit: rec.limited.then_some(LimitSpec {
                range: rec.range,
                solref: rec.solref,
                solimp: rec.solimp,
                margin: rec.margin,
            }),
            stiffness: rec.stiffness,
            springref,
            damping: first.damping,
            armature: first.armature,
        });
    }
    Ok(joints)
}

fn actuator_from_file(file: &ModelFile, rec: &ActuatorRecord, check: &Check<'_>) -> Result<ActuatorSpec, SimError> {
    let plain_motor = rec.gaintype == 0 && rec.biastype == 0 && rec.dyntype == 0 && rec.actuator_dyntype == 0;
    if !plain_motor || rec.actuator_biasprm.iter().any(|&b| b != 0.0) {
        return Err(check.unsupported(format!("actuator `{}` that is not a plain motor", rec.name)));
    }
    if rec.actuator_gear[1..].iter().any(|&g| g != 0.0) {
        return Err(check.unsupported(format!("a multi-axis gear on actuator `{}`", rec.name)));
    }
    let target = usize::try_from(rec.actuator_trnid[0])
        .map_err(|_| check.invalid(format!("actuator `{}` trnid", rec.name), "is negative"))?;
    let transmission = match rec.actuator_trntype {
        TRN_JOINT => TransmissionSpec::Joint(target),
        TRN_TENDON => {
            let tendon = file
                .tendons
                .get(target)
                .ok_or_else(|| check.invalid(format!("actuator `{}` tendon", rec.name), "does not exist"))?;
            let passive = tendon.tendon_stiffness != 0.0
                || tendon.tendon_damping != 0.0
                || tendon.tendon_frictionloss != 0.0
                || tendon.tendon_armature != 0.0;
            if tendon.tendon_limited || passive {
                return Err(check.unsupported(format!("tendon `{}` with limits or passive forces", tendon.name)));
            }
            let wraps = file.wraps.get(tendon.tendon_adr..tendon.tendon_adr + tendon.tendon_num).unwrap_or(&[]);
            if wraps.len() != tendon.tendon_num || wraps.iter().any(|w| w.wrap_type != WRAP_JOINT) {
                return Err(check.unsupported(format!("tendon `{}` that is not a fixed (joint) tendon", tendon.name)));
            }
            let terms = wraps
                .iter()
                .map(|w| usize::try_from(w.wrap_objid).map(|j| (j, w.wrap_prm)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| check.invalid(format!("tendon `{}` wrap", tendon.name), "has a negative joint id"))?;
            TransmissionSpec::FixedTendon(terms)
        }
        other => return Err(check.unsupported(format!("transmission type {other} of actuator `{}`", rec.name))),
    };
    Ok(ActuatorSpec {
        name: rec.name.clone(),
        transmission,
        gear: rec.actuator_gear[0],
        gain: rec.actuator_gainprm[0],
        ctrl_range: rec.ctrllimited.then_some(rec.ctrlrange),
        force_range: rec.actuator_forcelimited.then_some(rec.actuator_forcerange),
    })
}

/// The dump's `qposadr`/`dofadr` and dof bodies must be the ones the engine derives from the joint order.
fn check_addresses(file: &ModelFile, spec: &ModelSpec, check: &Check<'_>) -> Result<(), SimError> {
    let (mut nq, mut nv) = (0, 0);
    for (rec, joint) in file.joints.iter().zip(&spec.joints) {
        if rec.qposadr != nq || rec.dofadr != nv {
            return Err(check.invalid(format!("joint `{}` addresses", rec.name), "are not in joint order"));
        }
        for d in nv..nv + joint.kind.nv() {
            if file.dofs[d].dof_bodyid != rec.body {
                return Err(check.invalid(format!("dof {d} body"), "differs from its joint's body"));
            }
        }
        nq += joint.kind.nq();
        nv += joint.kind.nv();
    }
    if nq != file.nq || nv != file.nv {
        return Err(check.invalid("nq/nv", format!("the joints need {nq}/{nv}, the file says {}/{}", file.nq, file.nv)));
    }
    Ok(())
}
