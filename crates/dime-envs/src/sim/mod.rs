//! A compact reduced-coordinate rigid-body simulator that computes what MuJoCo 3.17 computes for
//! contact-free models (stage 1 of the engine described in the project's design notes, §3).
//!
//! Why it is shaped this way: the DMC tasks are defined by MuJoCo's discrete-time dynamics, not by
//! the continuous equations, so every step follows MuJoCo's `mj_step` operation by operation —
//! kinematics in the same order, spatial algebra about each tree's subtree centre of mass, CRBA
//! for M, RNE for the bias, MuJoCo's Euler with implicit damping or its RK4, and soft joint
//! limits with MuJoCo's impedance and reference acceleration. One step from a recorded state
//! then agrees with MuJoCo to about 1e-15. Models are read from the compiled constants MuJoCo
//! dumped (no MJCF compiler), and anything the engine would get wrong (contacts, tendons with
//! dynamics, fluid forces, ...) is refused when the model is built.
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
mod constraint;
mod data;
mod dynamics;
mod error;
mod integrate;
mod kinematics;
mod linalg;
mod load;
mod model;
pub mod model_file;
mod passive;
pub mod spatial;
mod validate;

pub use constraint::impedance;
pub use data::{Data, MAX_STATE_VALUE};
pub use error::SimError;
pub use integrate::integrate_pos;
pub use model::{
    ActuatorSpec, BodySpec, FrameSpec, Integrator, JointKind, JointSpec, LimitSpec, Model, ModelSpec, SimOptions,
    TransmissionSpec,
};

/// Engine name and version, logged with results as `EnvSpec::physics`.
pub const ENGINE: &str = "mjlite/0.1";
