//! A compact reduced-coordinate rigid-body simulator that computes what MuJoCo 3.17 computes for
//! contact-free models and for locomotion with contacts — the planar walkers and cheetahs, Ant and
//! the humanoids (stages 1–3 of the engine described in the project's design notes, §3).
//!
//! Why it is shaped this way: the DMC tasks are defined by MuJoCo's discrete-time dynamics, not by
//! the continuous equations, so every step follows MuJoCo's `mj_step` operation by operation —
//! kinematics in the same order, spatial algebra about each tree's subtree centre of mass, CRBA
//! for M, RNE for the bias, MuJoCo's Euler with implicit damping or its RK4, and soft joint
//! limits and contacts (plane, sphere and capsule pairs, self-contacts included; pyramidal
//! friction; touch sensors, contact wrenches and the "last evaluation" quantities) with MuJoCo's
//! impedance, regularizer and reference acceleration. The constraint forces solve MuJoCo's dual
//! problem exactly (projected Gauss–Seidel, then an active-set polish), so one step from a
//! recorded state agrees with MuJoCo to about 1e-14. Models are read from the compiled constants
//! MuJoCo dumped (no MJCF compiler), and anything the engine would get wrong (other geom shapes,
//! elliptic cones, tendons with dynamics, fluid forces, ...) is refused when the model is built.
//!
//! Units are SI (m, kg, s, rad, N, N·m); every quantity is f64; nothing is random and nothing
//! depends on threads, so a step is a pure function of (model, qpos, qvel, ctrl).
//!
//! ```
//! use dime_envs::sim::{Data, Model};
//! let model = Model::from_mujoco_json("pendulum", dime_envs::sim::assets::DMC_PENDULUM).unwrap();
//! let mut data = Data::new(&model);
//! data.set_state(&model, &[2.0], &[0.5]).unwrap();
//! data.set_ctrl(&model, &[0.3]).unwrap();
//! data.step(&model).unwrap();
//! // The design notes' worked example of Euler with implicit damping.
//! assert!((data.qvel()[0] - 0.8723402275557286).abs() < 1e-15);
//! ```

pub mod assets;
pub mod collision;
mod constraint;
mod contact;
mod data;
mod dynamics;
mod error;
mod inspect;
mod integrate;
mod invweight;
mod kinematics;
mod linalg;
mod load;
mod model;
pub mod model_file;
mod passive;
mod solver;
pub mod spatial;
mod tree_factor;
mod validate;

pub use constraint::{impedance, RowKind};
pub use contact::{Contact, ContactSpec, GeomCollision};
pub(crate) use data::Record;
pub use data::{Data, MAX_STATE_VALUE};
pub use error::SimError;
pub use integrate::integrate_pos;
pub use model::{
    ActuatorSpec, BodySpec, FrameSpec, Integrator, JointKind, JointSpec, LimitSpec, Model, ModelSpec, SimOptions,
    TransmissionSpec, DEFAULT_SOLVER_SWEEPS,
};
pub use solver::SolverMode;

/// Engine name and version, logged with results as `EnvSpec::physics`.
pub const ENGINE: &str = "mjlite/0.1";
