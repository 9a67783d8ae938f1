//! DMC's reward shaping function `tolerance` (dm_control `dm_control/utils/rewards.py`).
//!
//! `tolerance(x)` is 1 inside `bounds = (lo, hi)`; outside, with `margin = 0` it is 0 (a binary
//! reward), otherwise `s(d)` with `d = (lo − x)/margin` below and `(x − hi)/margin` above, where
//! the sigmoid `s` has `s(0) = 1` and `s(1) = value_at_margin`. The arithmetic follows
//! dm_control's order (d first, then `d·scale`), which reproduces its rewards to ~1e-16.

use crate::error::EnvError;

/// The shape of `tolerance` outside the bounds, with `y = d·scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sigmoid {
    /// `exp(−½y²)`, scale `sqrt(−2 ln v)`.
    Gaussian,
    /// `1/cosh(y)`, scale `acosh(1/v)`.
    Hyperbolic,
    /// `1/(y² + 1)`, scale `sqrt(1/v − 1)`.
    LongTail,
    /// `1/(|y| + 1)`, scale `1/v − 1`.
    Reciprocal,
    /// `(1 + cos(πy))/2` for |y| < 1 else 0, scale `acos(2v − 1)/π`.
    Cosine,
    /// `1 − y` for |y| < 1 else 0, scale `1 − v`.
    Linear,
    /// `1 − y²` for |y| < 1 else 0, scale `sqrt(1 − v)`.
    Quadratic,
    /// `1 − tanh(y)²`, scale `atanh(sqrt(1 − v))`.
    TanhSquared,
}

/// A validated `tolerance` function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    lo: f64,
    hi: f64,
    margin: f64,
    sigmoid: Sigmoid,
    scale: f64,
}

impl Tolerance {
    /// `tolerance(·, bounds, margin, sigmoid, value_at_margin)`; errors where dm_control raises.
    pub fn new(bounds: (f64, f64), margin: f64, sigmoid: Sigmoid, value_at_margin: f64) -> Result<Self, EnvError> {
        let (lo, hi) = bounds;
        if lo.is_nan() || hi.is_nan() || lo > hi {
            return Err(EnvError::InvalidConfig(format!("tolerance bounds ({lo}, {hi}) need lo <= hi")));
        }
        if margin.is_nan() || margin < 0.0 {
            return Err(EnvError::InvalidConfig(format!("tolerance margin {margin} must be >= 0")));
        }
        let v = value_at_margin;
        let open = 0.0 < v && v < 1.0;
        let half_open = (0.0..1.0).contains(&v);
        let allowed = match sigmoid {
            Sigmoid::Cosine | Sigmoid::Linear | Sigmoid::Quadratic => half_open,
            _ => open,
        };
        if margin > 0.0 && !allowed {
            return Err(EnvError::InvalidConfig(format!("value_at_margin {v} is not allowed for {sigmoid:?}")));
        }
        let scale = match sigmoid {
            Sigmoid::Gaussian => (-2.0 * v.ln()).sqrt(),
            Sigmoid::Hyperbolic => (1.0 / v).acosh(),
            Sigmoid::LongTail => (1.0 / v - 1.0).sqrt(),
            Sigmoid::Reciprocal => 1.0 / v - 1.0,
            Sigmoid::Cosine => (2.0 * v - 1.0).acos() / std::f64::consts::PI,
            Sigmoid::Linear => 1.0 - v,
            Sigmoid::Quadratic => (1.0 - v).sqrt(),
            Sigmoid::TanhSquared => (1.0 - v).sqrt().atanh(),
        };
        Ok(Tolerance { lo, hi, margin, sigmoid, scale })
    }

    /// A binary tolerance: 1 inside `bounds`, else 0.
    pub fn binary(bounds: (f64, f64)) -> Result<Self, EnvError> {
        Tolerance::new(bounds, 0.0, Sigmoid::Gaussian, 0.1)
    }

    /// The value at `x`, in [0, 1].
    pub fn eval(&self, x: f64) -> f64 {
        if self.lo <= x && x <= self.hi {
            return 1.0;
        }
        if self.margin == 0.0 {
            return 0.0;
        }
        let d = if x < self.lo { (self.lo - x) / self.margin } else { (x - self.hi) / self.margin };
        let y = d * self.scale;
        match self.sigmoid {
            Sigmoid::Gaussian => (-0.5 * (y * y)).exp(),
            Sigmoid::Hyperbolic => 1.0 / y.cosh(),
            Sigmoid::LongTail => 1.0 / (y * y + 1.0),
            Sigmoid::Reciprocal => 1.0 / (y.abs() + 1.0),
            Sigmoid::Cosine => {
                if y.abs() < 1.0 {
                    (1.0 + (std::f64::consts::PI * y).cos()) / 2.0
                } else {
                    0.0
                }
            }
            Sigmoid::Linear => {
                if y.abs() < 1.0 {
                    1.0 - y
                } else {
                    0.0
                }
            }
            Sigmoid::Quadratic => {
                if y.abs() < 1.0 {
                    1.0 - y * y
                } else {
                    0.0
                }
            }
            Sigmoid::TanhSquared => 1.0 - y.tanh() * y.tanh(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_at_margin_is_reached_at_the_margin_for_every_sigmoid() {
        // s(0) = 1 at the bound and s(1) = v one margin away, on both sides.
        let all = [
            Sigmoid::Gaussian,
            Sigmoid::Hyperbolic,
            Sigmoid::LongTail,
            Sigmoid::Reciprocal,
            Sigmoid::Cosine,
            Sigmoid::Linear,
            Sigmoid::Quadratic,
            Sigmoid::TanhSquared,
        ];
        for sigmoid in all {
            let t = Tolerance::new((1.0, 2.0), 0.5, sigmoid, 0.3).unwrap();
            assert_eq!(t.eval(1.5), 1.0);
            for x in [0.5, 2.5] {
                assert!((t.eval(x) - 0.3).abs() < 1e-12, "{sigmoid:?} at {x}: {}", t.eval(x));
            }
            assert!(t.eval(0.9) < 1.0 && t.eval(0.9) > 0.3, "{sigmoid:?} decreases monotonically");
        }
    }

    #[test]
    fn closed_forms_of_the_design_notes() {
        // envs.md §2.4: quadratic with v = 0 is 1 − u² inside |u| < 1; linear on (S, ∞) with margin S
        // and v = 0 is clamp(s/S, 0, 1).
        let quad = Tolerance::new((0.0, 0.0), 1.0, Sigmoid::Quadratic, 0.0).unwrap();
        for u in [-0.7_f64, 0.0, 0.3, 1.0, 1.3] {
            let expected = if u.abs() < 1.0 { 1.0 - u * u } else { 0.0 };
            assert!((quad.eval(u) - expected).abs() < 1e-16, "quadratic({u})");
        }
        let lin = Tolerance::new((2.0, f64::INFINITY), 2.0, Sigmoid::Linear, 0.0).unwrap();
        for s in [-1.0_f64, 0.0, 0.5, 1.9, 2.0, 5.0] {
            assert!((lin.eval(s) - (s / 2.0).clamp(0.0, 1.0)).abs() < 1e-15, "linear({s})");
        }
        let binary = Tolerance::binary((0.0, 0.06)).unwrap();
        assert_eq!((binary.eval(0.06), binary.eval(0.0600001)), (1.0, 0.0));
    }

    #[test]
    fn invalid_parameters_are_errors() {
        assert!(Tolerance::new((1.0, 0.0), 1.0, Sigmoid::Gaussian, 0.1).is_err());
        assert!(Tolerance::new((0.0, 1.0), -1.0, Sigmoid::Gaussian, 0.1).is_err());
        assert!(Tolerance::new((0.0, 1.0), 1.0, Sigmoid::Gaussian, 0.0).is_err());
        assert!(Tolerance::new((0.0, 1.0), 1.0, Sigmoid::Linear, 1.0).is_err());
    }
}
