//! Dense Cholesky factorisation `A = L·Lᵀ` of small symmetric positive definite matrices
//! (row-major `n × n`; the models here have at most a few dozen dofs, so dense is fastest).

/// Factor `a` in place: afterwards its lower triangle holds `L`. Reads only the lower triangle.
/// Returns `false` (leaving `a` partly overwritten) if a pivot is not positive and finite.
pub fn cholesky_factor(a: &mut [f64], n: usize) -> bool {
    for j in 0..n {
        let mut pivot = a[j * n + j];
        for k in 0..j {
            pivot -= a[j * n + k] * a[j * n + k];
        }
        if !(pivot > 0.0 && pivot.is_finite()) {
            return false;
        }
        let l_jj = pivot.sqrt();
        a[j * n + j] = l_jj;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / l_jj;
        }
    }
    true
}

/// Solve `L·Lᵀ·x = b` in place (`x` holds `b` on entry), with `l` from [`cholesky_factor`].
pub fn cholesky_solve(l: &[f64], n: usize, x: &mut [f64]) {
    for i in 0..n {
        let mut s = x[i];
        for k in 0..i {
            s -= l[i * n + k] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = x[i];
        for k in i + 1..n {
            s -= l[k * n + i] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_known_system() {
        // A = [[4, 2], [2, 3]], b = A·[1, -2] = [0, -4].
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        assert!(cholesky_factor(&mut a, 2));
        let mut x = vec![0.0, -4.0];
        cholesky_solve(&a, 2, &mut x);
        assert!((x[0] - 1.0).abs() < 1e-15 && (x[1] + 2.0).abs() < 1e-15, "{x:?}");
    }

    #[test]
    fn refuses_an_indefinite_matrix() {
        let mut a = vec![1.0, 2.0, 2.0, 1.0];
        assert!(!cholesky_factor(&mut a, 2));
        assert!(!cholesky_factor(&mut [f64::NAN], 1));
    }
}
