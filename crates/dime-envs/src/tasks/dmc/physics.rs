//! [`Physics`]: the simulated system of one env (shared by the DMC and Gymnasium MuJoCo tasks):
//! a shared model, its state, the physics steps per agent step, the divergence guard, and the
//! touch sensors that must be read from the last physics step's forward pass.

use std::sync::Arc;

use crate::sim::{Data, Model, Record, SimError};

/// The simulated system of one env: a shared model, its state, and the last divergence.
pub struct Physics {
    model: Arc<Model>,
    pub(super) data: Data,
    substeps: usize,
    divergence: Option<SimError>,
    /// Sites with touch sensors, and their last readings.
    touch_sites: Vec<usize>,
    touch: Vec<f64>,
}

impl Physics {
    /// Physics of `model` with `control_timestep / timestep` physics steps per agent step.
    pub(crate) fn new(model: Arc<Model>, control_timestep: f64) -> Self {
        let substeps = (control_timestep / model.timestep()).round().max(1.0) as usize;
        let data = Data::new(&model);
        Physics { model, data, substeps, divergence: None, touch_sites: Vec::new(), touch: Vec::new() }
    }

    /// Read MuJoCo touch sensors on these sites (DMC's rule: acceleration-stage sensors come from
    /// the forward pass of the last physics step of an agent step, i.e. its pre-integration state).
    pub(crate) fn with_touch_sensors(mut self, sites: Vec<usize>) -> Self {
        self.touch = vec![0.0; sites.len()];
        self.touch_sites = sites;
        self
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The state and derived quantities.
    pub fn data(&self) -> &Data {
        &self.data
    }

    /// The touch sensor readings (N), in the order given to `with_touch_sensors`.
    pub fn touch(&self) -> &[f64] {
        &self.touch
    }

    /// Seconds per agent step.
    pub fn control_timestep(&self) -> f64 {
        self.substeps as f64 * self.model.timestep()
    }

    /// Set `(qpos, qvel)` and recompute derived quantities (and touch readings, under the current
    /// control); non-finite or misshaped input is an error.
    pub fn set_state(&mut self, qpos: &[f64], qvel: &[f64]) -> Result<(), SimError> {
        self.divergence = None;
        self.data.set_state(&self.model, qpos, qvel)?;
        self.read_touch();
        Ok(())
    }

    /// Why the last reset or step failed, if it did.
    pub(crate) fn divergence(&self) -> Option<&SimError> {
        self.divergence.as_ref()
    }

    /// Set the state during a reset, with zero control (as `mj_resetData`); a failure is kept as
    /// the divergence that `TaskEnv::reset` reports.
    pub(crate) fn reset_to(&mut self, qpos: &[f64], qvel: &[f64]) {
        let zero = vec![0.0; self.model.nu()];
        let result = self.data.set_ctrl(&self.model, &zero).and_then(|()| self.set_state(qpos, qvel));
        if let Err(e) = result {
            self.divergence = Some(e);
        }
    }

    /// One agent step with control `action`; on divergence the state stays at its pre-step value.
    pub(crate) fn advance(&mut self, action: &[f64]) {
        self.divergence = None;
        if let Err(e) = self.data.set_ctrl(&self.model, action) {
            self.divergence = Some(e);
            return;
        }
        for substep in 0..self.substeps {
            if substep + 1 == self.substeps && !self.touch_sites.is_empty() {
                if let Err(e) = self.data.evaluate(&self.model) {
                    self.divergence = Some(e);
                    return;
                }
                self.read_touch();
            }
            // Tasks read contact wrenches and last-evaluation quantities of the last physics step only.
            let record = if substep + 1 == self.substeps { Record::Yes } else { Record::No };
            if let Err(e) = self.data.step_recording(&self.model, record) {
                self.divergence = Some(e);
                return;
            }
        }
    }

    fn read_touch(&mut self) {
        for (value, &site) in self.touch.iter_mut().zip(&self.touch_sites) {
            *value = self.data.touch(&self.model, site);
        }
    }
}
