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

/// [`first_deficient_block`] for a model matrix known only by its Gram
/// matrix G = X'X (the sparse path, where X is never dense). With the columns
/// scaled to unit length, the pivots of the Cholesky factorisation of G are
/// the squared distances of each column from the span of the columns before
/// it (R² of R's `qr()`); the first pivot below [`GRAM_PIVOT`] marks the
/// column that makes X rank deficient. O(p³/6), in row-major order.
pub(super) fn first_deficient_block_of_gram(
    gram: &DMatrix<f64>,
    block_ends: &[usize],
) -> Option<usize> {
    let p = gram.nrows();
    let scale: Vec<f64> = (0..p).map(|j| gram[(j, j)].sqrt()).collect();
    // Row i of L in l[i·p .. i·p + i + 1].
    let mut l = vec![0.0; p * p];
    let column = (0..p).find(|&j| {
        if !(scale[j] > 0.0 && scale[j].is_finite()) {
            return true;
        }
        let pivot = gram[(j, j)] / (scale[j] * scale[j])
            - l[j * p..j * p + j].iter().map(|v| v * v).sum::<f64>();
        // NaN (a column of infinities) counts as dependent too.
        if pivot.is_nan() || pivot <= GRAM_PIVOT {
            return true;
        }
        let diagonal = pivot.sqrt();
        l[j * p + j] = diagonal;
        for i in j + 1..p {
            let dot: f64 = l[i * p..i * p + j]
                .iter()
                .zip(&l[j * p..j * p + j])
                .map(|(a, b)| a * b)
                .sum();
            l[i * p + j] = (gram[(i, j)] / (scale[i] * scale[j]) - dot) / diagonal;
        }
        false
    })?;
    block_ends.iter().position(|&end| column < end)
}

/// A squared distance below 10⁻¹² of a unit-length column from the span of
/// the earlier ones (a sine below 10⁻⁶) is taken as linear dependence; rounding
/// in G = X'X leaves about 10⁻¹⁶·p of an exact dependence, far below.
const GRAM_PIVOT: f64 = 1e-12;
