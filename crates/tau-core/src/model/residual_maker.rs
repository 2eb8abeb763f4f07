//! Traces of the residual maker P = W − WX(X'WX)⁻¹X'W for any diagonal
//! weights W, in O(kp²) without forming the k×k matrix P: what the
//! generalised Q estimators (GENQ, GENQM, DLIT) and the standard errors of
//! τ̂² (metafor `rma.uni`'s `se.tau2`) need.
//!
//! With M = (X'WX)⁻¹ and C(d) = X' diag(d) X, and because P is symmetric:
//!
//! * tr(P D) = Σ wᵢdᵢ − tr(M C(w²d));
//! * tr(P Dₐ P D_b) = Σᵢⱼ Pᵢⱼ² aᵢ bⱼ
//!   = Σ wᵢ²aᵢbᵢ − 2 tr(M C(w³ab)) + tr(M C(w²a) M C(w²b)).
//!
//! metafor writes these as `.tr(P %*% V)`, `sum(P*P)`, `sum(PV*P)` and
//! `sum(PV*t(PV))` (V = diag(vᵢ)): tr(P V), tr(P P), tr(P P V) and tr(P V P V).

use nalgebra::DMatrix;

use super::matrix::ModelMatrix;
use super::wls::{SingularDesign, invert_spd, trace_of_product};

/// P for the weights `w` and the design `x`, held as M = (X'WX)⁻¹.
#[derive(Debug)]
pub struct ResidualMaker<'a> {
    x: &'a dyn ModelMatrix,
    w: &'a [f64],
    m: DMatrix<f64>,
}

impl<'a> ResidualMaker<'a> {
    /// P for weights `w` (one per study of `x`).
    pub fn new(x: &'a dyn ModelMatrix, w: &'a [f64]) -> Result<ResidualMaker<'a>, SingularDesign> {
        let m = invert_spd(x.cross_weighted(&|i| w[i]))?;
        Ok(ResidualMaker { x, w, m })
    }

    /// tr(P D) for D = diag(d(0), …, d(k − 1)).
    pub fn trace(&self, d: &dyn Fn(usize) -> f64) -> f64 {
        let w = self.w;
        let direct: f64 = (0..w.len()).map(|i| w[i] * d(i)).sum();
        let c = self.x.cross_weighted(&|i| w[i] * w[i] * d(i));
        direct - trace_of_product(&self.m, &c)
    }

    /// tr(P Dₐ P D_b) = Σᵢⱼ Pᵢⱼ² aᵢ bⱼ.
    pub fn trace_squared(&self, a: &dyn Fn(usize) -> f64, b: &dyn Fn(usize) -> f64) -> f64 {
        let w = self.w;
        let direct: f64 = (0..w.len()).map(|i| w[i] * w[i] * a(i) * b(i)).sum();
        let cross = self.x.cross_weighted(&|i| w[i] * w[i] * w[i] * a(i) * b(i));
        let ma = &self.m * self.x.cross_weighted(&|i| w[i] * w[i] * a(i));
        let mb = &self.m * self.x.cross_weighted(&|i| w[i] * w[i] * b(i));
        direct - 2.0 * trace_of_product(&self.m, &cross) + trace_of_product(&ma, &mb)
    }

    /// P itself, k×k (for its eigenvalues: the generalised Q's distribution).
    pub fn dense(&self) -> DMatrix<f64> {
        let k = self.w.len();
        let rows: Vec<Vec<f64>> = (0..k).map(|i| self.x.model_row(i).to_vec()).collect();
        let p = self.m.nrows();
        // zᵢ = M xᵢ wᵢ, so that (WXMX'W)ᵢⱼ = wᵢ xᵢ'zⱼ.
        let z: Vec<Vec<f64>> = rows
            .iter()
            .zip(self.w)
            .map(|(x, wi)| {
                (0..p)
                    .map(|a| wi * (0..p).map(|b| self.m[(a, b)] * x[b]).sum::<f64>())
                    .collect()
            })
            .collect();
        DMatrix::from_fn(k, k, |i, j| {
            let projected: f64 = rows[i].iter().zip(&z[j]).map(|(x, z)| x * z).sum();
            let diagonal = if i == j { self.w[i] } else { 0.0 };
            diagonal - self.w[i] * projected
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The O(kp²) traces equal those of the dense P.
    #[test]
    fn traces_match_the_dense_matrix() {
        let x = DMatrix::from_row_slice(5, 2, &[1.0, 0.3, 1.0, -1.2, 1.0, 0.8, 1.0, 2.0, 1.0, 0.1]);
        let w = [2.0, 0.5, 1.5, 3.0, 0.7];
        let v = [0.1, 0.4, 0.2, 0.05, 0.3];
        let rm = ResidualMaker::new(&x, &w).expect("full rank");
        let p = rm.dense();
        let vm = DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(&v));
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
        assert!(close(rm.trace(&|_| 1.0), p.trace()));
        assert!(close(rm.trace(&|i| v[i]), (&p * &vm).trace()));
        assert!(close(
            rm.trace_squared(&|_| 1.0, &|_| 1.0),
            (&p * &p).trace()
        ));
        assert!(close(
            rm.trace_squared(&|_| 1.0, &|i| v[i]),
            (&p * &p * &vm).trace()
        ));
        assert!(close(
            rm.trace_squared(&|i| v[i], &|i| v[i]),
            (&p * &vm * &p * &vm).trace()
        ));
    }
}
