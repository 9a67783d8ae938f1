//! The model: a kinematic tree of rigid bodies, its joints, actuators and named frames.
//!
//! A [`ModelSpec`] is plain data (built in code, or read from a MuJoCo dump by
//! [`Model::from_mujoco_json`]); [`Model::new`] checks every constant and derives what the
//! dynamics needs (coordinate addresses, the dof tree, actuator moment arms, and MuJoCo's
//! `dof_invweight0` at `qpos0`). A model that is inconsistent — negative mass, a non-unit
//! quaternion, a parent after its child, a moving body without inertia — is refused with
//! [`SimError::InvalidModel`]; a feature the engine does not simulate is refused with
//! [`SimError::Unsupported`] rather than silently ignored.

use super::contact::{build_collision, Collision, ContactSpec};
use super::error::SimError;
use super::spatial::{Quat, Vec3};
use super::tree_factor::TreeLayout;
pub(crate) use super::validate::Check;

/// How a joint moves its body relative to the parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JointKind {
    /// 6 dofs: position (world) and orientation; `qvel` = world linear velocity of the body
    /// origin, then angular velocity in the body frame. Only on children of the world.
    Free,
    /// 3 rotational dofs about the anchor; `qpos` a unit quaternion, `qvel` the angular velocity in the body frame.
    Ball,
    /// Translation along `axis` by `q − qpos0`.
    Slide,
    /// Rotation about `axis` through the anchor by `q − qpos0`.
    Hinge,
}

impl JointKind {
    /// Number of position coordinates.
    pub fn nq(self) -> usize {
        match self {
            JointKind::Free => 7,
            JointKind::Ball => 4,
            JointKind::Slide | JointKind::Hinge => 1,
        }
    }

    /// Number of degrees of freedom.
    pub fn nv(self) -> usize {
        match self {
            JointKind::Free => 6,
            JointKind::Ball => 3,
            JointKind::Slide | JointKind::Hinge => 1,
        }
    }
}

/// Time integration scheme (MuJoCo `option.integrator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integrator {
    /// Semi-implicit Euler, with implicit dof damping: `q̇' = q̇ + h·(M + h·D)⁻¹·f`, then positions with `q̇'`.
    Euler,
    /// Classic fourth-order Runge–Kutta with explicit damping.
    Rk4,
}

/// Global simulation options.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// Physics step h in seconds.
    pub timestep: f64,
    /// Gravitational acceleration in m/s² (world frame).
    pub gravity: Vec3,
    /// Integration scheme.
    pub integrator: Integrator,
    /// Whether joint limits are enforced (MuJoCo: neither `constraint` nor `limit` disabled).
    pub joint_limits: bool,
}

/// A rigid body. Body 0 is the world (no mass, identity pose, no joints).
#[derive(Debug, Clone, PartialEq)]
pub struct BodySpec {
    /// Name, for lookups.
    pub name: String,
    /// Parent body index; must be smaller than this body's index.
    pub parent: usize,
    /// Position in the parent frame (m).
    pub pos: Vec3,
    /// Orientation in the parent frame (unit quaternion).
    pub quat: Quat,
    /// Mass (kg), ≥ 0.
    pub mass: f64,
    /// Principal moments of inertia (kg·m²), ≥ 0 and satisfying the triangle inequality.
    pub inertia: Vec3,
    /// Centre of mass in the body frame.
    pub ipos: Vec3,
    /// Principal axes of inertia in the body frame (unit quaternion).
    pub iquat: Quat,
}

/// A soft joint limit (MuJoCo `range` with `solreflimit`/`solimplimit`).
#[derive(Debug, Clone, PartialEq)]
pub struct LimitSpec {
    /// Allowed range `[low, high]` (m or rad), low < high.
    pub range: [f64; 2],
    /// `(timeconst, dampratio)` of the limit's spring-damper, timeconst > 0.
    pub solref: [f64; 2],
    /// `(d0, dmax, width, midpoint, power)` of the impedance curve.
    pub solimp: [f64; 5],
    /// Distance from the bound at which the limit becomes active (≥ 0).
    pub margin: f64,
}

/// A joint: how a body moves relative to its parent, with its passive properties.
#[derive(Debug, Clone, PartialEq)]
pub struct JointSpec {
    /// Name, for lookups.
    pub name: String,
    /// Joint type.
    pub kind: JointKind,
    /// The body it moves; a body's joints are listed consecutively, bodies in order.
    pub body: usize,
    /// Anchor in the body frame.
    pub pos: Vec3,
    /// Unit axis in the body frame (hinge and slide).
    pub axis: Vec3,
    /// Soft limit, or `None` for an unlimited joint (hinge and slide only).
    pub limit: Option<LimitSpec>,
    /// Spring stiffness (N/m or N·m/rad), ≥ 0; hinge and slide only.
    pub stiffness: f64,
    /// Spring rest position.
    pub springref: f64,
    /// Viscous damping of each of its dofs, ≥ 0.
    pub damping: f64,
    /// Armature (rotor inertia) added to the mass matrix diagonal of each of its dofs, ≥ 0.
    pub armature: f64,
}

/// What an actuator pulls on.
#[derive(Debug, Clone, PartialEq)]
pub enum TransmissionSpec {
    /// A hinge or slide joint (by index).
    Joint(usize),
    /// A fixed tendon: length `Σ coef·q[joint]` over `(joint, coef)` terms of hinge/slide joints.
    FixedTendon(Vec<(usize, f64)>),
}

/// A plain motor: force = `gain·clamp(ctrl)`, generalized force = gear × transmission moment × force.
#[derive(Debug, Clone, PartialEq)]
pub struct ActuatorSpec {
    /// Name, for lookups.
    pub name: String,
    /// What the force acts on.
    pub transmission: TransmissionSpec,
    /// Gear ratio (MuJoCo `gear[0]`).
    pub gear: f64,
    /// Gain (MuJoCo `gainprm[0]` of a fixed-gain actuator).
    pub gain: f64,
    /// Control clamp `[low, high]`, or `None` for an unclamped control.
    pub ctrl_range: Option<[f64; 2]>,
    /// Force clamp `[low, high]`, or `None`.
    pub force_range: Option<[f64; 2]>,
}

/// A named frame attached to a body (a geom or a site): pose in the body frame and size.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameSpec {
    /// Name, for lookups.
    pub name: String,
    /// Body it is attached to.
    pub body: usize,
    /// Position in the body frame.
    pub pos: Vec3,
    /// Orientation in the body frame (unit quaternion).
    pub quat: Quat,
    /// Size parameters (radius first), as MuJoCo stores them.
    pub size: Vec3,
}

/// Everything that defines a model, before validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// Model name, used in error messages.
    pub name: String,
    /// Global options.
    pub options: SimOptions,
    /// Bodies; index 0 is the world.
    pub bodies: Vec<BodySpec>,
    /// Joints, grouped by body in body order.
    pub joints: Vec<JointSpec>,
    /// Actuators, in control order.
    pub actuators: Vec<ActuatorSpec>,
    /// Geoms (only their frames: the engine has no collisions).
    pub geoms: Vec<FrameSpec>,
    /// Sites.
    pub sites: Vec<FrameSpec>,
    /// Reference configuration (length nq): hinge/slide offsets are measured from it.
    pub qpos0: Vec<f64>,
}

/// An actuator after validation: its moment arm on each dof it moves.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Actuator {
    /// `(dof, gear·coefficient)` pairs.
    pub moment: Vec<(usize, f64)>,
    pub gain: f64,
    pub ctrl_range: Option<[f64; 2]>,
    pub force_range: Option<[f64; 2]>,
}

/// A validated model with derived constants. Immutable; share it (e.g. in an `Arc`) between `Data`s.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) spec: ModelSpec,
    pub(crate) nq: usize,
    pub(crate) nv: usize,
    /// Joint index range of each body.
    pub(crate) body_joints: Vec<std::ops::Range<usize>>,
    /// The child of the world each body descends from (0 for the world).
    pub(crate) body_root: Vec<usize>,
    /// Mass of each body's subtree.
    pub(crate) body_subtree_mass: Vec<f64>,
    pub(crate) jnt_qposadr: Vec<usize>,
    pub(crate) jnt_dofadr: Vec<usize>,
    pub(crate) dof_body: Vec<usize>,
    pub(crate) dof_parent: Vec<Option<usize>>,
    /// Which entries of a joint-space matrix can be nonzero (each dof with its ancestors).
    pub(crate) dof_tree: TreeLayout,
    pub(crate) dof_damping: Vec<f64>,
    pub(crate) dof_armature: Vec<f64>,
    /// MuJoCo's `dof_invweight0`: diagonal of M⁻¹ at qpos0 (averaged over a ball's or free joint's rotations/translations).
    pub(crate) dof_invweight0: Vec<f64>,
    pub(crate) actuators: Vec<Actuator>,
    /// Upper bound on simultaneous constraint rows (two per limited joint, four per contact).
    pub(crate) max_rows: usize,
    /// Last dof of each body's chain (its own, else its nearest moving ancestor's).
    pub(crate) body_dof_last: Vec<Option<usize>>,
    /// MuJoCo's `body_invweight0` (translational, rotational) at qpos0; zero for the world.
    pub(crate) body_invweight0: Vec<[f64; 2]>,
    /// Contact geoms and pairs, or `None` for a contact-free model.
    pub(crate) collision: Option<Collision>,
    /// Gauss–Seidel sweeps per solver round (MuJoCo `option.iterations`).
    pub(crate) solver_sweeps: usize,
}

/// Gauss–Seidel sweeps per round when the model does not say (MuJoCo's default `iterations`).
pub const DEFAULT_SOLVER_SWEEPS: usize = 100;

impl Model {
    /// Validate `spec` and compute the derived constants of a contact-free model.
    pub fn new(spec: ModelSpec) -> Result<Model, SimError> {
        Model::build(spec, None, DEFAULT_SOLVER_SWEEPS)
    }

    /// Validate `spec` and `contact` (collision properties of its geoms) and derive the candidate
    /// contact pairs; `solver_sweeps` caps each Gauss–Seidel round (MuJoCo `option.iterations`, ≥ 1).
    pub fn with_contacts(spec: ModelSpec, contact: ContactSpec, solver_sweeps: usize) -> Result<Model, SimError> {
        Model::build(spec, Some(contact), solver_sweeps)
    }

    fn build(spec: ModelSpec, contact: Option<ContactSpec>, solver_sweeps: usize) -> Result<Model, SimError> {
        let check = Check { model: &spec.name };
        if solver_sweeps == 0 {
            return Err(check.invalid("solver iterations", "must be at least 1"));
        }
        super::validate::validate(&spec, &check)?;
        let (mut nq, mut nv) = (0, 0);
        let (mut jnt_qposadr, mut jnt_dofadr) = (Vec::new(), Vec::new());
        let (mut dof_body, mut dof_parent) = (Vec::new(), Vec::new());
        let (mut dof_damping, mut dof_armature) = (Vec::new(), Vec::new());
        let nbody = spec.bodies.len();
        let mut body_joints = vec![0..0; nbody];
        // Last dof of each body's chain (its own, else its nearest ancestor's).
        let mut body_dof_last: Vec<Option<usize>> = vec![None; nbody];
        let mut body_root = vec![0; nbody];
        let mut next_joint = 0;
        for b in 1..nbody {
            let parent = spec.bodies[b].parent;
            body_root[b] = if parent == 0 { b } else { body_root[parent] };
            let mut last = body_dof_last[parent];
            let start = next_joint;
            while next_joint < spec.joints.len() && spec.joints[next_joint].body == b {
                let joint = &spec.joints[next_joint];
                jnt_qposadr.push(nq);
                jnt_dofadr.push(nv);
                for _ in 0..joint.kind.nv() {
                    dof_body.push(b);
                    dof_parent.push(last);
                    dof_damping.push(joint.damping);
                    dof_armature.push(joint.armature);
                    last = Some(nv);
                    nv += 1;
                }
                nq += joint.kind.nq();
                next_joint += 1;
            }
            body_joints[b] = start..next_joint;
            body_dof_last[b] = last;
        }
        if spec.qpos0.len() != nq {
            return Err(check.invalid("qpos0", format!("has length {}, but the joints need {nq}", spec.qpos0.len())));
        }
        super::validate::validate_qpos0(&spec, &jnt_qposadr, &check)?;
        let actuators = spec
            .actuators
            .iter()
            .map(|a| {
                let terms: Vec<(usize, f64)> = match &a.transmission {
                    TransmissionSpec::Joint(j) => vec![(*j, 1.0)],
                    TransmissionSpec::FixedTendon(terms) => terms.clone(),
                };
                let moment = terms.iter().map(|&(j, coef)| (jnt_dofadr[j], a.gear * coef)).collect();
                Actuator { moment, gain: a.gain, ctrl_range: a.ctrl_range, force_range: a.force_range }
            })
            .collect();
        let mut body_subtree_mass: Vec<f64> = spec.bodies.iter().map(|b| b.mass).collect();
        for b in (1..nbody).rev() {
            body_subtree_mass[spec.bodies[b].parent] += body_subtree_mass[b];
        }
        let collision = contact.map(|c| build_collision(&spec, c, &check)).transpose()?;
        let max_contacts = collision.as_ref().map_or(0, |c| c.max_contacts);
        let max_rows = 2 * spec.joints.iter().filter(|j| j.limit.is_some()).count() + 4 * max_contacts;
        let mut model = Model {
            nq,
            nv,
            body_joints,
            body_root,
            body_subtree_mass,
            jnt_qposadr,
            jnt_dofadr,
            dof_body,
            dof_tree: TreeLayout::new(&dof_parent),
            dof_parent,
            dof_damping,
            dof_armature,
            dof_invweight0: vec![0.0; nv],
            actuators,
            max_rows,
            body_dof_last,
            body_invweight0: vec![[0.0; 2]; nbody],
            collision,
            solver_sweeps,
            spec,
        };
        (model.dof_invweight0, model.body_invweight0) = model.compute_invweight0()?;
        Ok(model)
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The specification the model was built from.
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// Number of position coordinates.
    pub fn nq(&self) -> usize {
        self.nq
    }

    /// Number of degrees of freedom (velocity coordinates).
    pub fn nv(&self) -> usize {
        self.nv
    }

    /// Number of actuators (length of the control vector).
    pub fn nu(&self) -> usize {
        self.actuators.len()
    }

    /// Physics step h in seconds.
    pub fn timestep(&self) -> f64 {
        self.spec.options.timestep
    }

    /// Reference configuration.
    pub fn qpos0(&self) -> &[f64] {
        &self.spec.qpos0
    }

    /// MuJoCo's `dof_invweight0`, computed at qpos0.
    pub fn dof_invweight0(&self) -> &[f64] {
        &self.dof_invweight0
    }

    /// MuJoCo's `body_invweight0` (translational, rotational), computed at qpos0; zero for the world.
    pub fn body_invweight0(&self) -> &[[f64; 2]] {
        &self.body_invweight0
    }

    /// Collision properties of geom `g`, or `None` for a contact-free model.
    pub fn geom_collision(&self, g: usize) -> Option<&super::contact::GeomCollision> {
        self.collision.as_ref().and_then(|c| c.geoms.get(g))
    }

    /// Whether the model has contacts.
    pub fn has_contacts(&self) -> bool {
        self.collision.is_some()
    }

    /// First dof of joint `j`.
    pub fn joint_dof_adr(&self, j: usize) -> usize {
        self.jnt_dofadr[j]
    }

    /// First position coordinate of joint `j`.
    pub fn joint_qpos_adr(&self, j: usize) -> usize {
        self.jnt_qposadr[j]
    }

    /// Index of the body called `name`.
    pub fn body_id(&self, name: &str) -> Option<usize> {
        self.spec.bodies.iter().position(|b| b.name == name)
    }

    /// Index of the joint called `name`.
    pub fn joint_id(&self, name: &str) -> Option<usize> {
        self.spec.joints.iter().position(|j| j.name == name)
    }

    /// Index of the geom called `name`.
    pub fn geom_id(&self, name: &str) -> Option<usize> {
        self.spec.geoms.iter().position(|g| g.name == name)
    }

    /// Index of the site called `name`.
    pub fn site_id(&self, name: &str) -> Option<usize> {
        self.spec.sites.iter().position(|s| s.name == name)
    }
}
