//! Suite files (`xtask/suites/*.toml`): which algorithms, presets, tasks, seeds and budgets
//! `cargo xtask reproduce` runs. A suite is checked in two steps: [`SuiteFile::parse`] checks the
//! file on its own (syntax, types, unknown keys, empty lists, zero budgets), and
//! [`SuiteFile::check`] checks its names against what the `dime` binary offers ([`Catalog`]).
//! Every error names the file and the line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// A suite as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// One line saying what the suite is for; printed at the top of its summary.
    pub description: String,
    /// Root seeds; every (algorithm, task) pair runs once per seed.
    pub seeds: Spanned<Vec<u64>>,
    /// Threads per run (`RAYON_NUM_THREADS` and `CANDLE_NUM_THREADS` of each `dime` process).
    /// Results are bitwise repeatable at a fixed count, so it belongs to the suite, not to `--jobs`.
    #[serde(default = "one")]
    pub threads_per_run: usize,
    /// Loop settings that replace the presets' for every run (budget and seed come from elsewhere).
    #[serde(default, rename = "loop")]
    pub loop_settings: LoopSettings,
    /// The algorithms, each with the preset it runs.
    #[serde(rename = "algorithm")]
    pub algorithms: Vec<AlgorithmEntry>,
    /// The tasks, each with its step budget.
    #[serde(rename = "task")]
    pub tasks: Vec<TaskEntry>,
}

fn one() -> usize {
    1
}

/// Loop settings a suite may set; each one left out keeps the preset's value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopSettings {
    /// Uniform random actions for this many steps before learning starts.
    pub learning_starts: Option<u64>,
    /// Evaluate every this many environment steps.
    pub eval_every: Option<u64>,
    /// Episodes per evaluation.
    pub eval_episodes: Option<u32>,
    /// Checkpoint every this many environment steps (0: only at the end).
    pub checkpoint_every: Option<u64>,
    /// Replay buffer capacity in transitions.
    pub replay_capacity: Option<usize>,
}

impl LoopSettings {
    /// The settings as `(key, value)` pairs of the run config's `[loop]` table.
    pub fn entries(&self) -> Vec<(&'static str, i64)> {
        let as_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        [
            ("learning_starts", self.learning_starts),
            ("eval_every", self.eval_every),
            ("eval_episodes", self.eval_episodes.map(u64::from)),
            ("checkpoint_every", self.checkpoint_every),
            ("replay_capacity", self.replay_capacity.map(|v| v as u64)),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, as_i64(v))))
        .collect()
    }
}

/// One algorithm of a suite.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlgorithmEntry {
    /// Algorithm name as `dime list algorithms` prints it.
    pub algo: Spanned<String>,
    /// Preset name as `dime list presets` prints it.
    pub preset: Spanned<String>,
    /// Environments stepped together in this algorithm's runs (the run config's
    /// `loop.num_envs`); left out keeps the preset's (one). Every step budget of the algorithm
    /// must then be a multiple of it.
    pub num_envs: Option<Spanned<usize>>,
}

/// One task of a suite.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskEntry {
    /// Registry id (`dime list tasks`); ids this build does not have are reported, not run.
    pub id: Spanned<String>,
    /// Environment steps per run.
    pub steps: Spanned<u64>,
    /// Per-algorithm budgets that replace `steps` (for example fewer steps for a slow algorithm).
    #[serde(default)]
    pub steps_for: BTreeMap<String, u64>,
    /// The evaluation return the summary's "steps to threshold" column counts to.
    pub threshold: Option<f64>,
}

impl TaskEntry {
    /// The step budget of `algo` on this task.
    pub fn budget(&self, algo: &str) -> u64 {
        self.steps_for.get(algo).copied().unwrap_or(*self.steps.get_ref())
    }
}

/// What the `dime` binary offers: algorithms, their presets, and registered tasks.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Algorithm name → its presets.
    pub presets: BTreeMap<String, Vec<String>>,
    /// Registered task ids.
    pub tasks: Vec<String>,
}

/// A suite read from a file, with the text kept to turn spans into line numbers.
#[derive(Debug, Clone)]
pub struct SuiteFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The file's text.
    pub text: String,
    /// The parsed suite.
    pub suite: Suite,
}

/// The result of checking a suite against a [`Catalog`].
#[derive(Debug, Clone, PartialEq)]
pub struct Availability {
    /// Task ids this build has, in suite order.
    pub available: Vec<String>,
    /// Task ids it does not have yet, each with the closest registered id when one is close.
    pub missing: Vec<(String, Option<String>)>,
}

impl SuiteFile {
    /// Read and parse `path`.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read suite file {}: {e}", path.display()))?;
        Self::parse(path, &text)
    }

    /// Parse `text` (read from `path`) and check what can be checked without the `dime` binary.
    pub fn parse(path: &Path, text: &str) -> anyhow::Result<Self> {
        let suite: Suite = toml::from_str(text).map_err(|e| {
            let message = e.message().trim_end().to_string();
            match e.span() {
                Some(span) => anyhow::anyhow!("{}: {message}", locate(path, text, span.start)),
                None => anyhow::anyhow!("{}: {message}", path.display()),
            }
        })?;
        let file = Self { path: path.to_path_buf(), text: text.to_string(), suite };
        file.check_shape()?;
        Ok(file)
    }

    /// `path:line:column` of byte offset `at`.
    pub fn at(&self, at: usize) -> String {
        locate(&self.path, &self.text, at)
    }

    fn check_shape(&self) -> anyhow::Result<()> {
        let s = &self.suite;
        let seeds = s.seeds.get_ref();
        if seeds.is_empty() {
            anyhow::bail!("{}: `seeds` is empty", self.at(s.seeds.span().start));
        }
        if seeds.iter().collect::<BTreeSet<_>>().len() != seeds.len() {
            anyhow::bail!("{}: `seeds` lists a seed twice", self.at(s.seeds.span().start));
        }
        if s.threads_per_run == 0 {
            anyhow::bail!("{}: `threads_per_run` must be positive", self.path.display());
        }
        if s.algorithms.is_empty() {
            anyhow::bail!("{}: no [[algorithm]] entries", self.path.display());
        }
        if s.tasks.is_empty() {
            anyhow::bail!("{}: no [[task]] entries", self.path.display());
        }
        let mut pairs = BTreeSet::new();
        for a in &s.algorithms {
            if !pairs.insert((a.algo.get_ref().clone(), a.preset.get_ref().clone())) {
                anyhow::bail!(
                    "{}: `{} {}` is listed twice",
                    self.at(a.algo.span().start),
                    a.algo.get_ref(),
                    a.preset.get_ref()
                );
            }
        }
        for a in &s.algorithms {
            let Some(lanes) = &a.num_envs else { continue };
            let n = *lanes.get_ref();
            if n == 0 {
                anyhow::bail!("{}: `num_envs` must be positive", self.at(lanes.span().start));
            }
            let algo = a.algo.get_ref();
            if let Some(t) = s.tasks.iter().find(|t| !t.budget(algo).is_multiple_of(n as u64)) {
                anyhow::bail!(
                    "{}: {algo}'s budget on `{}`, {} steps, is not a multiple of its num_envs = {n} (set at {})",
                    self.at(t.id.span().start),
                    t.id.get_ref(),
                    t.budget(algo),
                    self.at(lanes.span().start)
                );
            }
        }
        let mut ids = BTreeSet::new();
        for t in &s.tasks {
            if !ids.insert(t.id.get_ref().clone()) {
                anyhow::bail!("{}: task `{}` is listed twice", self.at(t.id.span().start), t.id.get_ref());
            }
            if *t.steps.get_ref() == 0 || t.steps_for.values().any(|&v| v == 0) {
                anyhow::bail!("{}: step budgets must be positive", self.at(t.steps.span().start));
            }
            let algos: BTreeSet<&String> = s.algorithms.iter().map(|a| a.algo.get_ref()).collect();
            if let Some(name) = t.steps_for.keys().find(|k| !algos.contains(k)) {
                anyhow::bail!(
                    "{}: `steps_for` names `{name}`, which is not an algorithm of this suite",
                    self.at(t.id.span().start)
                );
            }
        }
        let loop_settings = &s.loop_settings;
        if loop_settings.eval_every == Some(0) || loop_settings.eval_episodes == Some(0) {
            anyhow::bail!("{}: `eval_every` and `eval_episodes` must be positive", self.path.display());
        }
        Ok(())
    }

    /// Check algorithm and preset names against `catalog` (unknown ones are errors naming the
    /// line) and split the tasks into those this build has and those it does not have yet.
    pub fn check(&self, catalog: &Catalog) -> anyhow::Result<Availability> {
        for a in &self.suite.algorithms {
            let (algo, preset) = (a.algo.get_ref(), a.preset.get_ref());
            let Some(presets) = catalog.presets.get(algo) else {
                let known: Vec<&str> = catalog.presets.keys().map(String::as_str).collect();
                anyhow::bail!(
                    "{}: unknown algorithm `{algo}`; known: {}",
                    self.at(a.algo.span().start),
                    known.join(", ")
                );
            };
            if !presets.contains(preset) {
                anyhow::bail!(
                    "{}: unknown preset `{preset}` for {algo}; known: {}",
                    self.at(a.preset.span().start),
                    presets.join(", ")
                );
            }
        }
        let mut availability = Availability { available: Vec::new(), missing: Vec::new() };
        for t in &self.suite.tasks {
            let id = t.id.get_ref();
            if catalog.tasks.contains(id) {
                availability.available.push(id.clone());
            } else {
                let close = catalog
                    .tasks
                    .iter()
                    .map(|known| (strsim::levenshtein(&id.to_lowercase(), &known.to_lowercase()), known))
                    .filter(|(d, _)| *d <= 3)
                    .min()
                    .map(|(_, known)| known.clone());
                availability.missing.push((id.clone(), close));
            }
        }
        Ok(availability)
    }

    /// The suite's name: the file stem (`quick` for `xtask/suites/quick.toml`).
    pub fn name(&self) -> String {
        self.path.file_stem().map_or_else(|| "suite".into(), |s| s.to_string_lossy().into_owned())
    }
}

fn locate(path: &Path, text: &str, at: usize) -> String {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{}:{line}:{column}", path.display())
}

/// Resolve a suite argument: a path to a file, or the name of a file in `xtask/suites/`.
pub fn resolve_suite_path(root: &Path, arg: &str) -> PathBuf {
    let direct = PathBuf::from(arg);
    if direct.is_file() || arg.contains('/') || arg.ends_with(".toml") {
        return direct;
    }
    root.join("xtask").join("suites").join(format!("{arg}.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"description = "test"
seeds = [0, 1]

[loop]
eval_every = 100

[[algorithm]]
algo = "dime"
preset = "smoke"

[[task]]
id = "gym/Pendulum-v1"
steps = 300
steps_for = { dime = 200 }
threshold = -400.0

[[task]]
id = "dmc/cheetah-run"
steps = 1000
"#;

    fn catalog() -> Catalog {
        Catalog {
            presets: [("dime".to_string(), vec!["cpu".to_string(), "smoke".to_string()])].into(),
            tasks: vec!["gym/Pendulum-v1".into(), "toy/multi-goal".into()],
        }
    }

    fn error(text: &str) -> String {
        let path = Path::new("suites/bad.toml");
        match SuiteFile::parse(path, text).and_then(|f| f.check(&catalog())) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_good_suite_parses_and_splits_tasks_into_available_and_missing() {
        let file = SuiteFile::parse(Path::new("quick.toml"), GOOD).unwrap();
        assert_eq!(file.name(), "quick");
        assert_eq!(file.suite.tasks[0].budget("dime"), 200);
        assert_eq!(file.suite.tasks[0].budget("sac"), 300);
        assert_eq!(file.suite.loop_settings.entries(), vec![("eval_every", 100)]);
        let availability = file.check(&catalog()).unwrap();
        assert_eq!(availability.available, vec!["gym/Pendulum-v1"]);
        assert_eq!(availability.missing, vec![("dmc/cheetah-run".to_string(), None)]);
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let bad = GOOD.replace("steps = 300", "steps = 300 300");
        let line = bad.lines().position(|l| l.contains("300 300")).unwrap() + 1;
        let msg = error(&bad);
        assert!(msg.starts_with(&format!("suites/bad.toml:{line}:")), "{msg}");
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let bad = GOOD.replace("threshold = -400.0", "treshold = -400.0");
        let line = bad.lines().position(|l| l.contains("treshold")).unwrap() + 1;
        let msg = error(&bad);
        assert!(msg.starts_with(&format!("suites/bad.toml:{line}:")) && msg.contains("treshold"), "{msg}");
    }

    #[test]
    fn a_wrong_type_names_its_line() {
        let bad = GOOD.replace("seeds = [0, 1]", "seeds = [0, \"one\"]");
        let msg = error(&bad);
        assert!(msg.starts_with("suites/bad.toml:2:"), "{msg}");
    }

    #[test]
    fn an_unknown_algorithm_or_preset_names_its_line_and_the_known_names() {
        let bad = GOOD.replace("algo = \"dime\"", "algo = \"dimee\"").replace("dime = 200", "dimee = 200");
        let line = bad.lines().position(|l| l.contains("dimee")).unwrap() + 1;
        let msg = error(&bad);
        assert!(msg.starts_with(&format!("suites/bad.toml:{line}:")) && msg.contains("known: dime"), "{msg}");

        let bad = GOOD.replace("preset = \"smoke\"", "preset = \"paper\"");
        let line = bad.lines().position(|l| l.contains("\"paper\"")).unwrap() + 1;
        let msg = error(&bad);
        assert!(msg.starts_with(&format!("suites/bad.toml:{line}:")) && msg.contains("cpu, smoke"), "{msg}");
    }

    #[test]
    fn zero_budgets_duplicates_and_empty_seeds_are_refused_with_their_line() {
        let msg = error(&GOOD.replace("steps = 1000", "steps = 0"));
        let line = GOOD.lines().position(|l| l == "steps = 1000").unwrap() + 1;
        assert!(msg.starts_with(&format!("suites/bad.toml:{line}:")), "{msg}");
        assert!(error(&GOOD.replace("seeds = [0, 1]", "seeds = []")).starts_with("suites/bad.toml:2:"));
        assert!(error(&GOOD.replace("[0, 1]", "[1, 1]")).contains("twice"));
        assert!(error(&GOOD.replace("dime = 200", "sac = 200")).contains("not an algorithm of this suite"));
    }

    #[test]
    fn num_envs_must_be_positive_and_divide_every_budget_of_its_algorithm() {
        let with = |n: &str| GOOD.replace("preset = \"smoke\"", &format!("preset = \"smoke\"\nnum_envs = {n}"));
        let file = SuiteFile::parse(Path::new("s.toml"), &with("4")).unwrap();
        assert_eq!(file.suite.algorithms[0].num_envs.as_ref().map(|n| *n.get_ref()), Some(4));
        let line = with("0").lines().position(|l| l == "num_envs = 0").unwrap() + 1;
        let msg = error(&with("0"));
        assert!(msg.starts_with(&format!("suites/bad.toml:{line}:")) && msg.contains("positive"), "{msg}");
        // dime's budget on Pendulum is 200 steps, not a multiple of 3.
        let msg = error(&with("3"));
        assert!(msg.contains("`gym/Pendulum-v1`, 200 steps, is not a multiple of its num_envs = 3"), "{msg}");
    }

    #[test]
    fn a_misspelt_task_is_reported_with_the_close_registered_id() {
        let file = SuiteFile::parse(Path::new("s.toml"), &GOOD.replace("dmc/cheetah-run", "toy/multigoal")).unwrap();
        let availability = file.check(&catalog()).unwrap();
        assert_eq!(availability.missing, vec![("toy/multigoal".to_string(), Some("toy/multi-goal".to_string()))]);
    }
}
