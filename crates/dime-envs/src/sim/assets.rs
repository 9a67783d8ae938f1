//! The compiled MuJoCo models the tasks are built from, embedded verbatim (see
//! `crates/dime-envs/assets/README.md` for where they came from).

/// DMC `pendulum.xml`, compiled by MuJoCo 3.17.
pub const DMC_PENDULUM: &str = include_str!("../../assets/model_dmc_pendulum.json");
/// DMC `cartpole.xml` (one pole), compiled by MuJoCo 3.17.
pub const DMC_CARTPOLE: &str = include_str!("../../assets/model_dmc_cartpole.json");
/// DMC `acrobot.xml`, compiled by MuJoCo 3.17.
pub const DMC_ACROBOT: &str = include_str!("../../assets/model_dmc_acrobot.json");
/// DMC `point_mass.xml`, compiled by MuJoCo 3.17 (tendon coefficients at their easy values).
pub const DMC_POINT_MASS: &str = include_str!("../../assets/model_dmc_point_mass.json");
/// DMC `reacher.xml`, compiled by MuJoCo 3.17 (target size at its easy value).
pub const DMC_REACHER: &str = include_str!("../../assets/model_dmc_reacher.json");
/// Gymnasium `half_cheetah.xml` (HalfCheetah-v5), compiled by MuJoCo 3.17 (files in `src/sim/models/`).
pub const GYM_HALFCHEETAH: &str = include_str!("models/model_gym_halfcheetah.json");
/// Gymnasium `hopper.xml` (Hopper-v5), compiled by MuJoCo 3.17.
pub const GYM_HOPPER: &str = include_str!("models/model_gym_hopper.json");
/// Gymnasium `walker2d_v5.xml` (Walker2d-v5), compiled by MuJoCo 3.17.
pub const GYM_WALKER2D: &str = include_str!("models/model_gym_walker2d.json");
/// DMC `cheetah.xml`, compiled by MuJoCo 3.17.
pub const DMC_CHEETAH: &str = include_str!("models/model_dmc_cheetah.json");
/// DMC `hopper.xml`, compiled by MuJoCo 3.17.
pub const DMC_HOPPER: &str = include_str!("models/model_dmc_hopper.json");
/// DMC `walker.xml`, compiled by MuJoCo 3.17.
pub const DMC_WALKER: &str = include_str!("models/model_dmc_walker.json");
/// Gymnasium `ant.xml` (Ant-v5), compiled by MuJoCo 3.17.
pub const GYM_ANT: &str = include_str!("models/model_gym_ant.json");
/// Gymnasium `humanoid.xml` (Humanoid-v5), compiled by MuJoCo 3.17.
pub const GYM_HUMANOID: &str = include_str!("models/model_gym_humanoid.json");
/// DMC `humanoid.xml`, compiled by MuJoCo 3.17.
pub const DMC_HUMANOID: &str = include_str!("models/model_dmc_humanoid.json");
