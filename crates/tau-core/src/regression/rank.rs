//! Rank checks of the model matrix, so that a singular design is reported
//! with the moderator that made it singular.

use nalgebra::DMatrix;

/// Adds blocks of columns one at a time and returns the index of the first
/// block whose columns make X rank deficient; `block_ends[i]` is the column
/// after block i. The rank is judged, as R's `qr()` does with its default
/// tolerance of 1e-7, on columns scaled to unit length: an eigenvalue of
/// X'X below 1e-14 of the largest is a singular value below 1e-7.
pub(super) fn first_deficient_block(x: &DMatrix<f64>, block_ends: &[usize]) -> Option<usize> {
    block_ends
        .iter()
        .position(|&end| rank_deficient(&x.columns(0, end).into_owned()))
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
