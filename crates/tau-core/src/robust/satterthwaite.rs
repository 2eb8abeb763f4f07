//! Satterthwaite degrees of freedom of a CR2 t test (Bell & McCaffrey 2002;
//! Tipton 2015; clubSandwich `coef_test(test = "Satterthwaite")`).
//!
//! Under the working model the robust variance of coefficient i is a
//! quadratic form in the residuals; its mean and variance give
//! df = 2 E² / V. clubSandwich writes both through a J × J matrix per
//! coefficient (its `get_P_array`), P = D − H'H with D = diag(‖g_j‖²) and
//! H = [h_1 … h_J], where g_j is row i of G_j and h_j row i of F_j
//! ([`super::sandwich`]): E = tr(P) and V = 2 ‖P‖²_F. tau never forms P:
//!
//! * E = Σ_j (‖g_j‖² − ‖h_j‖²);
//! * ‖P‖²_F = Σ_j ‖g_j‖⁴ − 2 Σ_j ‖g_j‖² ‖h_j‖² + ‖S‖²_F with S = Σ_j h_j h_j'
//!   (p × p), because ‖H'H‖_F = ‖HH'‖_F.
//!
//! O(J p²) per coefficient.

use nalgebra::DMatrix;

use super::sandwich::Sandwich;

/// The Satterthwaite df of coefficient `i` of a CR2 sandwich: NaN when they
/// are undefined (no variance in the estimated variance, e.g. a coefficient
/// that no cluster's residuals inform), or when the sandwich is not CR2.
pub fn satterthwaite_df(sandwich: &Sandwich, i: usize) -> f64 {
    if sandwich.terms.is_empty() {
        return f64::NAN;
    }
    let p = sandwich.vcov.nrows();
    let mut mean = 0.0;
    let mut squares = 0.0;
    let mut s = DMatrix::<f64>::zeros(p, p);
    for t in &sandwich.terms {
        let g2 = t.gg[(i, i)];
        let h = t.f.row(i).transpose();
        let h2 = h.norm_squared();
        mean += g2 - h2;
        squares += g2 * g2 - 2.0 * g2 * h2;
        s.ger(1.0, &h, &h, 1.0);
    }
    squares += s.norm_squared();
    let df = mean * mean / squares;
    if df.is_finite() && df > 0.0 {
        df
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::{DMatrix, DVector};

    use super::satterthwaite_df;
    use crate::robust::sandwich::{WorkingCluster, cr1, cr2};

    /// Four clusters of one estimate with equal variances.
    fn clusters() -> Vec<WorkingCluster> {
        (0..4)
            .map(|j| WorkingCluster {
                id: j.to_string(),
                x: DMatrix::from_element(1, 1, 1.0),
                residuals: DVector::from_vec(vec![0.1 * j as f64 - 0.15]),
                phi: DMatrix::from_element(1, 1, 0.1),
            })
            .collect()
    }

    /// With equal single-estimate clusters of an intercept-only model the
    /// df are J − 1: the CR2 t test is then the one-sample t test.
    #[test]
    fn equal_clusters_give_j_minus_1_df() {
        let df = satterthwaite_df(&cr2(&clusters()).expect("cr2"), 0);
        assert!((df - 3.0).abs() < 1e-12, "{df}");
    }

    /// Undefined df are NaN (reported as NA), never a number: CR1 has no
    /// Satterthwaite terms.
    #[test]
    fn df_without_cr2_terms_are_nan() {
        assert!(satterthwaite_df(&cr1(&clusters()).expect("cr1"), 0).is_nan());
    }
}
