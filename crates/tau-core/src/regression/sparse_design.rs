//! The model matrix of a meta-regression held by its non-zero entries, for
//! designs whose dense k × p matrix would exceed [`MAX_CELLS`]: a factor with
//! thousands of levels over 10⁵ studies (issue 18, item 14).
//!
//! A study's row has at most one entry per moderator (a continuous value, or
//! a 1 in its level's dummy column) and the intercept, so X'DX, X'Wy and Xβ
//! cost O(k·m²) for m moderators. Everything else of the fit works on p × p
//! matrices ([`crate::model::wls`]): tr P = Σwᵢ − tr((X'WX)⁻¹X'W²X), y'Py =
//! Σwᵢeᵢ² and so on, so neither the k × k matrix P nor the k × p matrix X is
//! formed. The sums add the same non-zero terms in the same order as the dense
//! path, so both give the same numbers (checked in the tests below).
//!
//! The p × p matrices are dense, so p² is held to [`MAX_CELLS`] as well.

use nalgebra::{DMatrix, DVector};

use super::design::{self, DesignError, Layout, MAX_CELLS};
use crate::data::dataset::Dataset;
use crate::model::{ModelMatrix, ModelRow};

/// A model matrix in compressed rows: row i's entries are
/// `columns[starts[i]..starts[i + 1]]` with `values` alongside.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseRows {
    p: usize,
    starts: Vec<usize>,
    columns: Vec<usize>,
    values: Vec<f64>,
}

impl SparseRows {
    /// The matrix with p columns and the given rows of (column, value)
    /// entries, columns increasing within a row.
    pub fn new(p: usize, rows: impl IntoIterator<Item = Vec<(usize, f64)>>) -> SparseRows {
        let mut out = SparseRows {
            p,
            starts: vec![0],
            columns: Vec::new(),
            values: Vec::new(),
        };
        for row in rows {
            for (c, v) in row {
                out.columns.push(c);
                out.values.push(v);
            }
            out.starts.push(out.columns.len());
        }
        out
    }

    fn entries(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let range = self.starts[i]..self.starts[i + 1];
        self.columns[range.clone()]
            .iter()
            .copied()
            .zip(self.values[range].iter().copied())
    }
}

impl ModelMatrix for SparseRows {
    fn k(&self) -> usize {
        self.starts.len() - 1
    }
    fn p(&self) -> usize {
        self.p
    }
    fn cross_weighted(&self, d: &dyn Fn(usize) -> f64) -> DMatrix<f64> {
        let mut out = DMatrix::zeros(self.p, self.p);
        for i in 0..self.k() {
            let di = d(i);
            for (a, xa) in self.entries(i) {
                for (b, xb) in self.entries(i).filter(|(b, _)| *b >= a) {
                    out[(a, b)] += xa * di * xb;
                }
            }
        }
        out.fill_lower_triangle_with_upper_triangle();
        out
    }
    fn weighted_sum(&self, w: &[f64], y: &[f64]) -> DVector<f64> {
        let mut out = DVector::zeros(self.p);
        for i in 0..self.k() {
            for (a, xa) in self.entries(i) {
                out[a] += xa * w[i] * y[i];
            }
        }
        out
    }
    fn times(&self, beta: &DVector<f64>) -> Vec<f64> {
        (0..self.k())
            .map(|i| self.entries(i).map(|(a, xa)| xa * beta[a]).sum())
            .collect()
    }
    fn model_row(&self, i: usize) -> ModelRow {
        ModelRow::new(self.p, self.entries(i).collect())
    }
}

/// The model matrix of `spec`, held sparsely, with its rank checked (as
/// [`design::build`] checks the dense one).
pub(super) fn build(
    dataset: &Dataset,
    spec: &design::DesignSpec,
) -> Result<(Layout, SparseRows), DesignError> {
    let (layout, columns) = design::plan(dataset, spec)?;
    let p = layout.names.len();
    if p.checked_mul(p).is_none_or(|cells| cells > MAX_CELLS) {
        let (largest, largest_columns) = layout.largest_term();
        return Err(DesignError::TooManyCoefficients {
            columns: p,
            largest,
            largest_columns,
        });
    }
    let x = SparseRows::new(p, design::row_entries(&columns, &layout));
    let gram = x.cross_weighted(&|_| 1.0);
    let mut largest = vec![0.0f64; p];
    for (&c, v) in x.columns.iter().zip(&x.values) {
        largest[c] = largest[c].max(v.abs());
    }
    design::check_gram_rank(&gram, &layout, &largest)?;
    Ok((layout, x))
}

#[cfg(test)]
mod tests;
