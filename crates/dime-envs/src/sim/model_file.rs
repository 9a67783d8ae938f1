//! The compiled MuJoCo model constants as the project's model dumps store them
//! (`model_dmc_<domain>.json`; fields named like `mjModel`/`mjOption`, described in the golden
//! folder's README). Every field of the dump is declared, so an unexpected or missing field is
//! an error rather than a silently ignored constant; [`super::Model::from_mujoco_json`] turns
//! this into a validated [`super::Model`].

use std::collections::BTreeMap;

use serde::Deserialize;

/// A whole model dump.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// The task the model was dumped from.
    pub source: SourceRecord,
    /// MuJoCo version that compiled the model.
    pub mujoco: String,
    /// Simulation options (`mjOption`).
    pub option: OptionRecord,
    /// Number of position coordinates.
    pub nq: usize,
    /// Number of degrees of freedom.
    pub nv: usize,
    /// Number of actuators.
    pub nu: usize,
    /// Bodies; index 0 is the world.
    pub bodies: Vec<BodyRecord>,
    /// Joints in model order.
    pub joints: Vec<JointRecord>,
    /// Degrees of freedom in model order.
    pub dofs: Vec<DofRecord>,
    /// Reference configuration.
    pub qpos0: Vec<f64>,
    /// Actuators in control order.
    pub actuators: Vec<ActuatorRecord>,
    /// Geoms.
    pub geoms: Vec<GeomRecord>,
    /// Sites.
    pub sites: Vec<SiteRecord>,
    /// Task id (duplicate of `source.env`).
    pub env: String,
    /// Agent step of the task (duplicate of `source.control_timestep`; DMC models only).
    #[serde(default)]
    pub control_timestep: Option<f64>,
    /// Gymnasium frame skip (Gymnasium models only).
    #[serde(default)]
    pub frame_skip: Option<u32>,
    /// Number of activation states.
    pub na: usize,
    /// Number of bodies.
    pub nbody: usize,
    /// Number of joints.
    pub njnt: usize,
    /// Number of geoms.
    pub ngeom: usize,
    /// Number of sites.
    pub nsite: usize,
    /// Number of sensors.
    pub nsensor: usize,
    /// Length of `sensordata`.
    pub nsensordata: usize,
    /// Number of tendons.
    pub ntendon: usize,
    /// Number of tendon wraps.
    pub nwrap: usize,
    /// Number of equality constraints.
    pub neq: usize,
    /// Number of explicit contact pairs.
    pub npair: usize,
    /// Number of excluded body pairs.
    pub nexclude: usize,
    /// Contact buffer size (−1: not set).
    pub nconmax: i64,
    /// Constraint buffer size (−1: not set).
    pub njmax: i64,
    /// Arena size in bytes.
    pub narena: i64,
    /// Sensors.
    pub sensors: Vec<SensorRecord>,
    /// Tendons.
    pub tendons: Vec<TendonRecord>,
    /// Tendon wraps.
    pub wraps: Vec<WrapRecord>,
    /// Excluded body pairs.
    pub excludes: Vec<ExcludeRecord>,
    /// Code → name tables of the MuJoCo enums used in the file.
    pub enums: BTreeMap<String, BTreeMap<String, String>>,
}

/// Where the dump came from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRecord {
    /// Task id.
    pub env: String,
    /// Agent step in seconds (DMC models only).
    #[serde(default)]
    pub control_timestep: Option<f64>,
    /// Gymnasium frame skip.
    #[serde(default)]
    pub frame_skip: Option<u32>,
}

/// `mjOption`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionRecord {
    /// Physics step h in seconds.
    pub timestep: f64,
    /// Gravity in m/s².
    pub gravity: [f64; 3],
    /// 0 Euler, 1 RK4, 2 implicit, 3 implicitfast.
    pub integrator: i64,
    /// 0 pyramidal, 1 elliptic.
    pub cone: i64,
    /// Friction-to-normal impedance ratio.
    pub impratio: f64,
    /// Solver iterations.
    pub iterations: i64,
    /// 0 PGS, 1 CG, 2 Newton.
    pub solver: i64,
    /// Wind velocity.
    pub wind: [f64; 3],
    /// Medium density.
    pub density: f64,
    /// Medium viscosity.
    pub viscosity: f64,
    /// `mjtDisableBit` flags.
    pub disableflags: u32,
    /// Override margin (unused: override off).
    pub o_margin: f64,
    /// Override solref (unused).
    pub o_solref: [f64; 2],
    /// Override solimp (unused).
    pub o_solimp: [f64; 5],
    /// Override friction (unused).
    pub o_friction: [f64; 5],
    /// Solver tolerance.
    pub tolerance: f64,
    /// Line-search iterations.
    pub ls_iterations: i64,
    /// Line-search tolerance.
    pub ls_tolerance: f64,
    /// Noslip iterations.
    pub noslip_iterations: i64,
    /// Noslip tolerance.
    pub noslip_tolerance: f64,
    /// Convex-collision iterations.
    pub ccd_iterations: i64,
    /// Convex-collision tolerance.
    pub ccd_tolerance: f64,
    /// `mjtEnableBit` flags.
    pub enableflags: u32,
    /// Jacobian storage (0 dense, 1 sparse, 2 auto).
    pub jacobian: i64,
    /// Magnetic field.
    pub magnetic: [f64; 3],
    /// Disabled actuator groups.
    pub disableactuator: i64,
}

/// One body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyRecord {
    /// Name.
    pub name: String,
    /// Parent body id.
    pub parent: usize,
    /// Position in the parent frame.
    pub pos: [f64; 3],
    /// Orientation in the parent frame.
    pub quat: [f64; 4],
    /// Mass in kg.
    pub mass: f64,
    /// Principal moments of inertia.
    pub inertia: [f64; 3],
    /// Centre of mass in the body frame.
    pub ipos: [f64; 3],
    /// Principal axes in the body frame.
    pub iquat: [f64; 4],
    /// MuJoCo's inverse weights (translational, rotational).
    pub body_invweight0: [f64; 2],
    /// Weld group.
    pub body_weldid: usize,
    /// Root body.
    pub body_rootid: usize,
    /// Subtree mass.
    pub body_subtreemass: f64,
    /// Simple-body code.
    pub body_simple: i64,
    /// First joint (−1: none).
    pub body_jntadr: i64,
    /// Number of joints.
    pub body_jntnum: usize,
    /// First dof (−1: none).
    pub body_dofadr: i64,
    /// Number of dofs.
    pub body_dofnum: usize,
    /// First geom (−1: none).
    pub body_geomadr: i64,
    /// Number of geoms.
    pub body_geomnum: usize,
}

/// One joint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JointRecord {
    /// Name.
    pub name: String,
    /// `free`, `ball`, `slide` or `hinge`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Body the joint moves.
    pub body: usize,
    /// Anchor in the body frame.
    pub pos: [f64; 3],
    /// Axis in the body frame.
    pub axis: [f64; 3],
    /// Whether the range is enforced.
    pub limited: bool,
    /// Range (m or rad).
    pub range: [f64; 2],
    /// First position coordinate.
    pub qposadr: usize,
    /// First dof.
    pub dofadr: usize,
    /// Spring stiffness.
    pub stiffness: f64,
    /// Spring reference position(s).
    pub springref: Vec<f64>,
    /// Limit solref (timeconst, dampratio).
    pub solref: [f64; 2],
    /// Limit solimp (d0, dmax, width, mid, power).
    pub solimp: [f64; 5],
    /// Limit margin.
    pub margin: f64,
}

/// One degree of freedom.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DofRecord {
    /// Viscous damping.
    pub damping: f64,
    /// Armature inertia added to the mass matrix diagonal.
    pub armature: f64,
    /// Dry friction.
    pub frictionloss: f64,
    /// MuJoCo's inverse weight at qpos0.
    pub dof_invweight0: f64,
    /// Body.
    pub dof_bodyid: usize,
    /// Joint.
    pub dof_jntid: usize,
    /// Parent dof (−1: root).
    pub dof_parentid: i64,
}

/// One actuator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActuatorRecord {
    /// Name.
    pub name: String,
    /// Transmission target id (a joint or a tendon, see `actuator_trntype`).
    pub joint: usize,
    /// First gear entry.
    pub gear: [f64; 1],
    /// Whether ctrl is clamped.
    pub ctrllimited: bool,
    /// Control range.
    pub ctrlrange: [f64; 2],
    /// `mjtGain`.
    pub gaintype: i64,
    /// First gain parameters.
    pub gainprm: [f64; 3],
    /// `mjtBias`.
    pub biastype: i64,
    /// First bias parameters.
    pub biasprm: [f64; 3],
    /// `mjtDyn`.
    pub dyntype: i64,
    /// `mjtTrn`.
    pub actuator_trntype: i64,
    /// Transmission target ids.
    pub actuator_trnid: [i64; 2],
    /// Full gear.
    pub actuator_gear: [f64; 6],
    /// `mjtDyn`.
    pub actuator_dyntype: i64,
    /// Dynamics parameters.
    pub actuator_dynprm: [f64; 10],
    /// Gain parameters.
    pub actuator_gainprm: [f64; 10],
    /// Bias parameters.
    pub actuator_biasprm: [f64; 10],
    /// First activation (−1: none).
    pub actuator_actadr: i64,
    /// Number of activations.
    pub actuator_actnum: usize,
    /// Whether activations are clamped.
    pub actuator_actlimited: bool,
    /// Activation range.
    pub actuator_actrange: [f64; 2],
    /// Activation early flag.
    pub actuator_actearly: bool,
    /// Whether the force is clamped.
    pub actuator_forcelimited: bool,
    /// Force range.
    pub actuator_forcerange: [f64; 2],
    /// Transmission length at qpos0.
    pub actuator_length0: f64,
}

/// One geom.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeomRecord {
    /// Name.
    pub name: String,
    /// Shape (`plane`, `sphere`, `capsule`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Body.
    pub body: usize,
    /// Size parameters.
    pub size: [f64; 3],
    /// Position in the body frame.
    pub pos: [f64; 3],
    /// Orientation in the body frame.
    pub quat: [f64; 4],
    /// Friction (sliding, torsional, rolling).
    pub friction: [f64; 3],
    /// Contact type bits.
    pub contype: u32,
    /// Contact affinity bits.
    pub conaffinity: u32,
    /// Contact dimensionality.
    pub condim: u32,
    /// Contact solref.
    pub solref: [f64; 2],
    /// Contact solimp.
    pub solimp: [f64; 5],
    /// Contact margin.
    pub margin: f64,
    /// Always null in the dumps.
    pub mass: Option<f64>,
    /// Contact priority.
    pub geom_priority: i64,
    /// Solver mixing weight.
    pub geom_solmix: f64,
    /// Contact gap.
    pub geom_gap: f64,
    /// Bounding-sphere radius.
    pub geom_rbound: f64,
}

/// One site.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteRecord {
    /// Name.
    pub name: String,
    /// Body.
    pub body: usize,
    /// Position in the body frame.
    pub pos: [f64; 3],
    /// `mjtGeom` shape code.
    pub site_type: i64,
    /// Size parameters.
    pub site_size: [f64; 3],
    /// Orientation in the body frame.
    pub site_quat: [f64; 4],
}

/// One sensor (none is used by the contact-free tasks).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorRecord {
    /// Name.
    pub name: String,
    /// `mjtSensor`.
    pub sensor_type: i64,
    /// `mjtDataType`.
    pub sensor_datatype: i64,
    /// `mjtStage` the sensor needs.
    pub sensor_needstage: i64,
    /// `mjtObj` of the object.
    pub sensor_objtype: i64,
    /// Object id.
    pub sensor_objid: i64,
    /// `mjtObj` of the reference frame.
    pub sensor_reftype: i64,
    /// Reference id.
    pub sensor_refid: i64,
    /// Integer parameters.
    pub sensor_intprm: [i64; 3],
    /// Output dimension.
    pub sensor_dim: usize,
    /// Offset in `sensordata`.
    pub sensor_adr: usize,
    /// Cutoff.
    pub sensor_cutoff: f64,
    /// Noise standard deviation.
    pub sensor_noise: f64,
}

/// One tendon.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TendonRecord {
    /// Name.
    pub name: String,
    /// First wrap.
    pub tendon_adr: usize,
    /// Number of wraps.
    pub tendon_num: usize,
    /// Whether the length is limited.
    pub tendon_limited: bool,
    /// Length range.
    pub tendon_range: [f64; 2],
    /// Limit solref.
    pub tendon_solref_lim: [f64; 2],
    /// Limit solimp.
    pub tendon_solimp_lim: [f64; 5],
    /// Friction solref.
    pub tendon_solref_fri: [f64; 2],
    /// Friction solimp.
    pub tendon_solimp_fri: [f64; 5],
    /// Limit margin.
    pub tendon_margin: f64,
    /// Spring stiffness.
    pub tendon_stiffness: f64,
    /// Damping.
    pub tendon_damping: f64,
    /// Dry friction.
    pub tendon_frictionloss: f64,
    /// Armature.
    pub tendon_armature: f64,
    /// Spring rest length range.
    pub tendon_lengthspring: [f64; 2],
    /// Length at qpos0.
    pub tendon_length0: f64,
    /// Inverse weight at qpos0.
    pub tendon_invweight0: f64,
}

/// One tendon wrap.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrapRecord {
    /// `mjtWrap` (1 = joint: a fixed-tendon term).
    pub wrap_type: i64,
    /// Joint id of a joint wrap.
    pub wrap_objid: i64,
    /// Coefficient of a joint wrap.
    pub wrap_prm: f64,
}

/// One excluded body pair.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcludeRecord {
    /// `(body1 << 16) + body2`.
    pub exclude_signature: i64,
    /// First body.
    pub body1: usize,
    /// Second body.
    pub body2: usize,
}
