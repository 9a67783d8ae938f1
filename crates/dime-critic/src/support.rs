//! The categorical support `z = linspace(v_min, v_max, N)` (dime.md §5.1).

use crate::CriticError;

/// `N ≥ 2` equally spaced atoms on `[v_min, v_max]`, `v_min < v_max`.
#[derive(Debug, Clone, PartialEq)]
pub struct Support {
    v_min: f64,
    v_max: f64,
    atoms: usize,
    values: Vec<f32>,
}

impl Support {
    /// The support, or [`CriticError::InvalidSupport`] if it is empty, has one atom, is inverted
    /// or not finite. Atom values are `v_min + j·Δz` computed in f64 and rounded once to f32.
    pub fn new(v_min: f64, v_max: f64, atoms: usize) -> Result<Self, CriticError> {
        if atoms < 2 || !v_min.is_finite() || !v_max.is_finite() || v_min >= v_max {
            return Err(CriticError::InvalidSupport { atoms, v_min, v_max });
        }
        let delta = (v_max - v_min) / (atoms - 1) as f64;
        let values = (0..atoms).map(|j| (v_min + j as f64 * delta) as f32).collect();
        Ok(Self { v_min, v_max, atoms, values })
    }

    /// Lowest atom.
    pub fn v_min(&self) -> f64 {
        self.v_min
    }

    /// Highest atom.
    pub fn v_max(&self) -> f64 {
        self.v_max
    }

    /// Number of atoms `N`.
    pub fn atoms(&self) -> usize {
        self.atoms
    }

    /// Spacing `Δz = (v_max − v_min)/(N − 1)`.
    pub fn delta(&self) -> f64 {
        (self.v_max - self.v_min) / (self.atoms - 1) as f64
    }

    /// The atom values `z_j`.
    pub fn values(&self) -> &[f32] {
        &self.values
    }
}
