//! MuJoCo's inverse weights at `qpos0` (`engine_setconst.c`, `set0`), used to scale the
//! constraint regularizer `R`:
//! - `dof_invweight0[d]` = `(M⁻¹)_dd`; a ball joint's three entries are replaced by their mean, a
//!   free joint's translational and rotational triples likewise.
//! - `body_invweight0[b]` = the means of the translational and of the rotational diagonal of
//!   `J M⁻¹ Jᵀ`, with `J` the body's Jacobian at its centre of mass (translation rows
//!   `lin + ang × (xipos − com)`, rotation rows `ang`, from the com-frame `cdof`); zero for the world.

use super::data::Data;
use super::error::SimError;
use super::linalg::{cholesky_factor, cholesky_solve};
use super::model::{Check, JointKind, Model};
use super::spatial::{cross3, sub3, MIN_VAL};

impl Model {
    /// `(dof_invweight0, body_invweight0)`; fails if M is not positive definite at qpos0.
    pub(crate) fn compute_invweight0(&self) -> Result<(Vec<f64>, Vec<[f64; 2]>), SimError> {
        let nv = self.nv;
        let mut data = Data::new(self);
        data.qpos.copy_from_slice(&self.spec.qpos0);
        data.position_stage(self);
        let mut factor = data.mass_matrix(self);
        if !cholesky_factor(&mut factor, nv) {
            return Err(Check { model: &self.spec.name }
                .invalid("mass matrix at qpos0", "is not positive definite (a moving body without mass or inertia?)"));
        }
        // Full M⁻¹, column by column (nv is small).
        let mut minv = vec![0.0; nv * nv];
        for d in 0..nv {
            let column = &mut minv[d * nv..(d + 1) * nv];
            column[d] = 1.0;
            cholesky_solve(&factor, nv, column);
        }
        let mut diag: Vec<f64> = (0..nv).map(|d| minv[d * nv + d]).collect();
        for (j, joint) in self.spec.joints.iter().enumerate() {
            let adr = self.jnt_dofadr[j];
            // First dof of each triple whose entries are averaged.
            let triples: &[usize] = match joint.kind {
                JointKind::Free => &[0, 3],
                JointKind::Ball => &[0],
                JointKind::Slide | JointKind::Hinge => &[],
            };
            for first in triples {
                let range = adr + first..adr + first + 3;
                let mean = diag[range.clone()].iter().sum::<f64>() / 3.0;
                diag[range].fill(mean);
            }
        }
        let nbody = self.spec.bodies.len();
        let mut body = vec![[0.0; 2]; nbody];
        let mut jac = vec![0.0; 6 * nv];
        for (b, out) in body.iter_mut().enumerate().skip(1) {
            jac.fill(0.0);
            let offset = sub3(data.xipos[b], data.subtree_com[self.body_root[b]]);
            let mut dof = self.body_dof_last[b];
            while let Some(d) = dof {
                let cdof = &data.cdof[d];
                let lin = cross3([cdof[0], cdof[1], cdof[2]], offset);
                for k in 0..3 {
                    jac[k * nv + d] = cdof[3 + k] + lin[k];
                    jac[(3 + k) * nv + d] = cdof[k];
                }
                dof = self.dof_parent[d];
            }
            let quadratic = |row: &[f64]| -> f64 {
                (0..nv).map(|i| row[i] * (0..nv).map(|k| minv[i * nv + k] * row[k]).sum::<f64>()).sum()
            };
            let mean =
                |rows: std::ops::Range<usize>| rows.map(|k| quadratic(&jac[k * nv..(k + 1) * nv])).sum::<f64>() / 3.0;
            *out = [mean(0..3).max(MIN_VAL), mean(3..6).max(MIN_VAL)];
        }
        Ok((diag, body))
    }
}
