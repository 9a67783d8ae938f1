//! The tasks. Each is a [`Task`](crate::Task); the registry wraps it in a [`TaskEnv`](crate::TaskEnv).

pub mod dmc;
pub mod gym_mujoco;
pub mod mountain_car;
pub mod multi_goal;
pub mod pendulum;

pub use mountain_car::MountainCarContinuous;
pub use multi_goal::{MultiGoal, MultiGoalConfig};
pub use pendulum::Pendulum;
