//! Rank checks of the model matrix, so that a singular design is reported
//! with the moderator that made it singular.

use nalgebra::DMatrix;

use super::design::{DesignError, Term};

/// Adds the moderators one at a time and names the first whose columns make
/// X rank deficient. The rank is judged, as R's `qr()` does with its default
/// tolerance of 1e-7, on columns scaled to unit length: an eigenvalue of
/// X'X below 1e-14 of the largest is a singular value below 1e-7.
pub(super) fn check_rank(
    x: &DMatrix<f64>,
    terms: &[Term],
    intercept: bool,
) -> Result<(), DesignError> {
    let mut earlier: Vec<String> = Vec::new();
    if intercept {
        earlier.push("the intercept".into());
    }
    for term in terms {
        let end = term.first_column + term.columns;
        if rank_deficient(&x.columns(0, end).into_owned()) {
            return Err(DesignError::Collinear {
                moderator: term.moderator.clone(),
                earlier: if earlier.is_empty() {
                    vec!["itself (its columns are linearly dependent)".into()]
                } else {
                    earlier
                },
            });
        }
        earlier.push(format!("'{}'", term.moderator));
    }
    Ok(())
}

fn rank_deficient(x: &DMatrix<f64>) -> bool {
    let mut scaled = x.clone();
    for mut column in scaled.column_iter_mut() {
        let norm = column.norm();
        if norm.is_nan() || norm == 0.0 {
            return true;
        }
        column /= norm;
    }
    let gram = scaled.transpose() * &scaled;
    let eigen = gram.symmetric_eigenvalues();
    let largest = eigen.amax();
    let smallest = eigen.iter().fold(f64::INFINITY, |a, &v| a.min(v));
    smallest <= largest * 1e-14
}
