//! DIME's published numbers, for the summary to put beside ours.
//!
//! Source: the design notes' DIME specification, section 12.1 ("Final returns"), computed from
//! the authors' released learning curves (`paper_results/*.npy`, ALRhub/DIME commit `7082bb7`,
//! 10 seeds, final evaluation point of 1M-step runs). Keyed by this project's task ids; the
//! paper ran Gym v3 environments, so the Gym rows compare approximately. The MyoSuite rows are
//! left out until those tasks have ids here.

/// One published result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaperResult {
    /// Final return, mean over the released seeds.
    pub mean: f64,
    /// Sample standard deviation across those seeds.
    pub std: f64,
    /// Where the number comes from and how comparable it is.
    pub note: &'static str,
}

const RELEASED: &str = "DIME's released curves, 10 seeds, final point (984k)";
const RELEASED_LONG: &str = "DIME's released curves, 10 seeds, at 1.008M";
const GYM_V3: &str = "DIME's released curves (Gym v3), 10 seeds, 984k";

/// `(task id, result)` for every task with a published DIME number.
pub const DIME_RESULTS: &[(&str, PaperResult)] = &[
    ("dmc/dog-stand", PaperResult { mean: 960.5, std: 33.2, note: RELEASED }),
    ("dmc/dog-walk", PaperResult { mean: 925.2, std: 65.1, note: RELEASED }),
    ("dmc/dog-trot", PaperResult { mean: 854.2, std: 93.9, note: RELEASED }),
    ("dmc/dog-run", PaperResult { mean: 637.4, std: 80.9, note: RELEASED_LONG }),
    ("dmc/humanoid-stand", PaperResult { mean: 911.2, std: 18.2, note: RELEASED }),
    ("dmc/humanoid-walk", PaperResult { mean: 736.9, std: 126.8, note: RELEASED }),
    ("dmc/humanoid-run", PaperResult { mean: 254.2, std: 96.5, note: RELEASED_LONG }),
    ("gym/Ant-v5", PaperResult { mean: 6238.9, std: 1338.9, note: GYM_V3 }),
    ("gym/Humanoid-v5", PaperResult { mean: 11885.5, std: 1755.7, note: GYM_V3 }),
    ("dmc/acrobot-swingup", PaperResult { mean: 451.0, std: 84.0, note: RELEASED }),
    ("dmc/cheetah-run", PaperResult { mean: 898.4, std: 45.1, note: RELEASED }),
    ("dmc/finger-turn_hard", PaperResult { mean: 954.6, std: 63.0, note: RELEASED }),
    ("dmc/fish-swim", PaperResult { mean: 748.8, std: 96.7, note: RELEASED }),
    ("dmc/hopper-hop", PaperResult { mean: 318.7, std: 65.9, note: RELEASED }),
    ("dmc/pendulum-swingup", PaperResult { mean: 754.5, std: 255.1, note: RELEASED }),
    ("dmc/quadruped-run", PaperResult { mean: 939.9, std: 17.8, note: RELEASED }),
    ("dmc/walker-run", PaperResult { mean: 849.5, std: 9.2, note: RELEASED }),
];

/// DIME's published result on `task`, if there is one.
pub fn dime_result(task: &str) -> Option<PaperResult> {
    DIME_RESULTS.iter().find(|(id, _)| *id == task).map(|(_, r)| *r)
}
