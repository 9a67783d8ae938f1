//! The progress bar of `dime train`: steps/s, the last training and evaluation returns, and α.

use dime::algos::{EvalReport, Observer};
use indicatif::{ProgressBar, ProgressStyle};

/// An [`Observer`] drawing one indicatif bar.
pub struct Progress {
    bar: ProgressBar,
    eval_return: f64,
    train_return: f64,
    alpha: f64,
}

impl Progress {
    /// A bar for `total` steps, starting at `done`.
    pub fn new(total: u64, done: u64) -> Self {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {per_sec}  eta {eta}  {msg}")
                .expect("valid template"),
        );
        bar.set_position(done);
        Self { bar, eval_return: f64::NAN, train_return: f64::NAN, alpha: f64::NAN }
    }

    fn refresh(&self) {
        self.bar.set_message(format!(
            "eval return {:.1}  train return {:.1}  α {:.3e}",
            self.eval_return, self.train_return, self.alpha
        ));
    }

    /// Remove the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Progress {
    fn on_step(&mut self, env_steps: u64) {
        self.bar.set_position(env_steps);
    }
    fn on_episode(&mut self, episode_return: f64) {
        self.train_return = episode_return;
        self.refresh();
    }
    fn on_update(&mut self, names: &[&'static str], values: &[f64]) {
        if let Some(i) = names.iter().position(|n| *n == "alpha") {
            self.alpha = values[i];
        }
    }
    fn on_eval(&mut self, report: &EvalReport) {
        self.eval_return = report.return_mean;
        self.bar.println(format!(
            "{:>9} steps  eval return {:>10.2} ± {:.2}",
            report.env_steps, report.return_mean, report.return_std
        ));
        self.refresh();
    }
}
