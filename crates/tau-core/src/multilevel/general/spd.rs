//! A dense symmetric positive definite matrix factorised once: its log
//! determinant, solves and inverse (the matrices of [`super::equations`]),
//! by faer's blocked Cholesky factorisation (A = L Lᵀ), which is many times
//! faster than an unblocked one at the orders of a phylogeny (10³).

use faer::linalg::solvers::{DenseSolveCore, Llt, Solve};
use faer::linalg::triangular_inverse::invert_lower_triangular;
use faer::{Mat, Par, Side};
use nalgebra::DMatrix;

/// The Cholesky factor of A.
pub(crate) struct Factor {
    llt: Llt<f64>,
    n: usize,
}

fn to_faer(a: &DMatrix<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)])
}

fn from_faer(a: &Mat<f64>) -> DMatrix<f64> {
    DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)])
}

impl Factor {
    /// Factorises `a` (its lower triangle), or `None` when it is not
    /// positive definite.
    pub fn new(a: &DMatrix<f64>) -> Option<Factor> {
        let n = a.nrows();
        to_faer(a)
            .llt(Side::Lower)
            .ok()
            .map(|llt| Factor { llt, n })
    }

    /// log|A| = 2 Σ log Lᵢᵢ.
    pub fn log_det(&self) -> f64 {
        let l = self.llt.L();
        2.0 * (0..self.n).map(|i| l[(i, i)].ln()).sum::<f64>()
    }

    /// A⁻¹ B.
    pub fn solve(&self, b: &DMatrix<f64>) -> DMatrix<f64> {
        from_faer(&self.llt.solve(to_faer(b)))
    }

    /// A⁻¹.
    pub fn inverse(&self) -> DMatrix<f64> {
        from_faer(&self.llt.inverse())
    }

    /// The diagonal of A⁻¹ = L⁻ᵀL⁻¹: (A⁻¹)ᵢᵢ = Σⱼ (L⁻¹)ⱼᵢ², from one
    /// triangular inversion.
    pub fn inverse_diagonal(&self) -> Vec<f64> {
        let mut l_inv = Mat::<f64>::zeros(self.n, self.n);
        invert_lower_triangular(l_inv.as_mut(), self.llt.L(), Par::Seq);
        (0..self.n)
            .map(|i| (i..self.n).map(|j| l_inv[(j, i)].powi(2)).sum())
            .collect()
    }
}
