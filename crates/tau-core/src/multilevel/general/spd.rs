//! A dense symmetric positive definite matrix factorised once: its log
//! determinant, solves and inverse (the q × q matrices of
//! [`super::henderson`]).

use nalgebra::DMatrix;

/// The Cholesky factor L of A = L Lᵀ.
pub(crate) struct Factor {
    chol: nalgebra::Cholesky<f64, nalgebra::Dyn>,
}

impl Factor {
    /// Factorises `a`, or `None` when it is not positive definite.
    pub fn new(a: &DMatrix<f64>) -> Option<Factor> {
        nalgebra::Cholesky::new(a.clone()).map(|chol| Factor { chol })
    }

    /// log|A| = 2 Σ log Lᵢᵢ.
    pub fn log_det(&self) -> f64 {
        2.0 * self.chol.l_dirty().diagonal().iter().map(|d| d.ln()).sum::<f64>()
    }

    /// A⁻¹ B.
    pub fn solve(&self, b: &DMatrix<f64>) -> DMatrix<f64> {
        self.chol.solve(b)
    }

    /// A⁻¹.
    pub fn inverse(&self) -> DMatrix<f64> {
        self.chol.inverse()
    }
}
