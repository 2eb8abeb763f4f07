//! The cluster-robust ("sandwich") variance of the fixed effects of a
//! meta-analytic working model, computed cluster by cluster.
//!
//! Cluster j contributes its rows X_j of the design, its residuals
//! e_j = y_j − X_j β̂, and the working model's marginal covariance block Φ_j
//! (rma.uni: diag(vᵢ + τ̂²); rma.mv: V_j + Σ σ²_l Z_l Z_l'), with weights
//! W_j = Φ_j⁻¹. With the bread M = (Σ_j X_j' W_j X_j)⁻¹:
//!
//! * CR2 (Bell & McCaffrey 2002; Tipton & Pustejovsky 2015; clubSandwich
//!   `vcovCR(type = "CR2")` with inverse-variance weights, as metafor
//!   `robust(clubSandwich = TRUE)` calls it):
//!   V = M [Σ_j X_j' W_j A_j e_j e_j' A_j' W_j X_j] M, where
//!   A_j = R_j' G_j^(−1/2) R_j, R_j'R_j = Φ_j and
//!   G_j = R_j (I − H_jj) Φ_j R_j' = R_j (Φ_j − X_j M X_j') R_j',
//!   H_jj = X_j M X_j' W_j (clubSandwich `CR2` with `inverse_var = TRUE`).
//! * CR1, metafor's own `robust(adjust = TRUE)`: A_j = I and the sum scaled
//!   by n/(n − p), n the number of clusters.
//!
//! Each cluster costs O(n_j³ + n_j² p + p²) (one Cholesky factorisation and
//! one symmetric eigendecomposition of an n_j × n_j block), so the whole
//! estimator is O(k) in the number of estimates for bounded cluster sizes:
//! no k × k matrix is formed. For the small-sample tests
//! ([`super::satterthwaite`], [`super::htz`]) CR2 keeps two p × p matrices
//! per cluster.

use nalgebra::{Cholesky, DMatrix, DVector, Dyn, SymmetricEigen};

use super::RobustError;
use crate::model::wls::invert_spd;

/// One cluster of the working model.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkingCluster {
    /// The cluster's identifier, as the user wrote it (for messages).
    pub id: String,
    /// Its rows of the design, n_j × p.
    pub x: DMatrix<f64>,
    /// Its residuals y_j − X_j β̂.
    pub residuals: DVector<f64>,
    /// The working model's marginal covariance block Φ_j, n_j × n_j.
    pub phi: DMatrix<f64>,
}

/// A cluster's share of the small-sample corrections (clubSandwich's
/// `get_GH` with `inverse_var = TRUE`): with E_j = X_j' W_j A_j and the lower
/// Cholesky factors L_j (Φ_j = L_j L_j') and L (M = L L'),
/// G_j = M E_j L_j and F_j = M E_j X_j L.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusterTerms {
    /// G_j G_j' = M E_j Φ_j E_j' M (p × p).
    pub gg: DMatrix<f64>,
    /// F_j (p × p): its row i is clubSandwich's H[i, , j].
    pub f: DMatrix<f64>,
}

/// A cluster-robust variance-covariance matrix of the coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct Sandwich {
    /// The robust variance-covariance matrix (p × p).
    pub vcov: DMatrix<f64>,
    /// Number of clusters.
    pub clusters: usize,
    /// CR2 only: each cluster's terms for the Satterthwaite and HTZ tests.
    pub(crate) terms: Vec<ClusterTerms>,
    /// CR2 only: the clusters whose adjustment block G_j was singular (and
    /// inverted as clubSandwich does, see [`cr2`]).
    pub singular: Vec<String>,
}

/// Checks the clusters and returns the bread M = (Σ X_j' W_j X_j)⁻¹ with each
/// cluster's Cholesky factor of Φ_j and W_j X_j.
type Prepared = (DMatrix<f64>, Vec<(Cholesky<f64, Dyn>, DMatrix<f64>)>);

fn prepare(clusters: &[WorkingCluster]) -> Result<Prepared, RobustError> {
    let p = match clusters.first() {
        Some(c) => c.x.ncols(),
        None => return Err(RobustError::TooFewClusters { clusters: 0, p: 0 }),
    };
    if clusters.len() < 2 {
        return Err(RobustError::OneCluster {
            id: clusters[0].id.clone(),
        });
    }
    if clusters.len() <= p {
        return Err(RobustError::TooFewClusters {
            clusters: clusters.len(),
            p,
        });
    }
    let mut bread_inv = DMatrix::zeros(p, p);
    let mut factors = Vec::with_capacity(clusters.len());
    for c in clusters {
        let n = c.x.nrows();
        if c.x.ncols() != p || c.residuals.len() != n || c.phi.shape() != (n, n) || n == 0 {
            return Err(RobustError::Dimensions { id: c.id.clone() });
        }
        let chol = Cholesky::new(c.phi.clone())
            .ok_or_else(|| RobustError::NotPositiveDefinite { id: c.id.clone() })?;
        let wx = chol.solve(&c.x);
        bread_inv += c.x.transpose() * &wx;
        factors.push((chol, wx));
    }
    let bread = invert_spd(bread_inv).map_err(|_| RobustError::SingularBread)?;
    Ok((bread, factors))
}

/// metafor's `robust(adjust = TRUE)`: the sandwich with A_j = I, scaled by
/// n/(n − p) (the "CR1" estimator).
pub fn cr1(clusters: &[WorkingCluster]) -> Result<Sandwich, RobustError> {
    let (bread, factors) = prepare(clusters)?;
    let p = bread.nrows();
    let mut meat = DMatrix::zeros(p, p);
    for (c, (_, wx)) in clusters.iter().zip(&factors) {
        let u = wx.transpose() * &c.residuals;
        meat.ger(1.0, &u, &u, 1.0);
    }
    let n = clusters.len() as f64;
    let vcov = &bread * meat * &bread * (n / (n - p as f64));
    Ok(Sandwich {
        vcov: symmetrise(vcov),
        clusters: clusters.len(),
        terms: Vec::new(),
        singular: Vec::new(),
    })
}

/// The bias-reduced CR2 sandwich (see the module docs), with the terms the
/// small-sample tests need.
pub fn cr2(clusters: &[WorkingCluster]) -> Result<Sandwich, RobustError> {
    let (bread, factors) = prepare(clusters)?;
    let p = bread.nrows();
    // L with M = L L' (clubSandwich's M_U_ct; any square root of M would do).
    let bread_root = Cholesky::new(bread.clone())
        .ok_or(RobustError::SingularBread)?
        .l();
    let mut meat = DMatrix::zeros(p, p);
    let mut terms = Vec::with_capacity(clusters.len());
    let mut singular = Vec::new();
    for (c, (chol, wx)) in clusters.iter().zip(&factors) {
        let l = chol.l();
        let (adjustment, is_singular) = adjustment(c, &l, &bread)?;
        if is_singular {
            singular.push(c.id.clone());
        }
        // E_j = X_j' W_j A_j (p × n_j).
        let e = wx.transpose() * &adjustment;
        let u = &e * &c.residuals;
        meat.ger(1.0, &u, &u, 1.0);
        let me = &bread * &e;
        let g = &me * &l;
        terms.push(ClusterTerms {
            gg: &g * g.transpose(),
            f: &me * &c.x * &bread_root,
        });
    }
    let vcov = &bread * meat * &bread;
    Ok(Sandwich {
        vcov: symmetrise(vcov),
        clusters: clusters.len(),
        terms,
        singular,
    })
}

/// A_j = L_j G_j^(−1/2) L_j' with G_j = L_j'(Φ_j − X_j M X_j')L_j
/// (clubSandwich writes R_j = L_j' for the upper factor), and whether G_j
/// was singular.
///
/// G_j is singular when the cluster alone determines a combination of the
/// coefficients (I − H_jj loses rank), e.g. a moderator level present in this
/// cluster only. clubSandwich's `matrix_power(G_j, -1/2)` then sets the power
/// of every eigenvalue ≤ 10⁻¹² to 0 (a generalised inverse square root), and
/// so does tau, with one difference: clubSandwich's 10⁻¹² is absolute, so
/// whether a zero eigenvalue's rounding noise passes it depends on the units
/// of the data and on clubSandwich's internal scaling of Φ_j (A_j itself does
/// not: scaling Φ_j by c scales L_j by √c and G_j^(−1/2) by 1/c). tau takes
/// an eigenvalue as zero below [`SINGULAR`] times the largest diagonal
/// element of L_j'Φ_jL_j, a tolerance free of units.
fn adjustment(
    c: &WorkingCluster,
    l: &DMatrix<f64>,
    bread: &DMatrix<f64>,
) -> Result<(DMatrix<f64>, bool), RobustError> {
    let lt = l.transpose();
    let ltx = &lt * &c.x;
    let full = &lt * &c.phi * l;
    let g = symmetrise(&full - &ltx * bread * ltx.transpose());
    let eigen = SymmetricEigen::new(g);
    if eigen.eigenvalues.iter().any(|v| v.is_nan()) {
        return Err(RobustError::SingularCluster { id: c.id.clone() });
    }
    let zero = SINGULAR * full.diagonal().amax();
    let singular = eigen.eigenvalues.iter().any(|&v| v <= zero);
    let inv_sqrt = inverse_sqrt(&eigen, zero);
    Ok((l * inv_sqrt * lt, singular))
}

/// Relative size below which an eigenvalue of G_j counts as zero.
const SINGULAR: f64 = 1e-10;

/// V Λ^(−1/2) V' from a symmetric eigendecomposition, with λ^(−1/2) = 0 for
/// λ ≤ `zero` (clubSandwich `matrix_power(x, -1/2)`).
fn inverse_sqrt(eigen: &SymmetricEigen<f64, Dyn>, zero: f64) -> DMatrix<f64> {
    let scaled = DVector::from_iterator(
        eigen.eigenvalues.len(),
        eigen
            .eigenvalues
            .iter()
            .map(|&v| if v > zero { v.powf(-0.5) } else { 0.0 }),
    );
    let v = &eigen.eigenvectors;
    v * DMatrix::from_diagonal(&scaled) * v.transpose()
}

/// (A + A')/2: removes the rounding asymmetry of a product that is symmetric in exact arithmetic.
pub(crate) fn symmetrise(a: DMatrix<f64>) -> DMatrix<f64> {
    (&a + a.transpose()) * 0.5
}

/// The symmetric (pseudo-)inverse square root of a symmetric positive
/// semi-definite matrix, eigenvalues below `1e-12` × the largest treated as
/// zero (clubSandwich `matrix_power(x, -1/2)`).
pub(crate) fn pseudo_inverse_sqrt(a: DMatrix<f64>) -> DMatrix<f64> {
    let eigen = SymmetricEigen::new(symmetrise(a));
    let largest = eigen.eigenvalues.amax();
    let scaled = DVector::from_iterator(
        eigen.eigenvalues.len(),
        eigen.eigenvalues.iter().map(|&v| {
            if v > 1e-12 * largest {
                v.powf(-0.5)
            } else {
                0.0
            }
        }),
    );
    let v = &eigen.eigenvectors;
    v * DMatrix::from_diagonal(&scaled) * v.transpose()
}
