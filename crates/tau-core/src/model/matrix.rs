//! What the model fit needs of a k×p model matrix X, so that X can be held
//! densely ([`DMatrix`]) or by its non-zero entries (a meta-regression on a
//! factor with thousands of levels: see `crate::regression::sparse_design`).
//!
//! Every quantity of the fit is a sum over studies or a p×p product
//! ([`super::wls`]): X'DX for diagonal D, X'Wy and Xβ. A sparse matrix adds
//! the same non-zero terms in the same order (study by study), so both forms
//! give the same numbers.

use nalgebra::{DMatrix, DVector};
use serde::{Serialize, Serializer, ser::SerializeSeq};

/// A k×p model matrix as the fit uses it.
pub trait ModelMatrix: Sync + std::fmt::Debug {
    /// k: studies (rows).
    fn k(&self) -> usize;
    /// p: coefficients (columns).
    fn p(&self) -> usize;
    /// X'DX for the diagonal D = diag(d(0), …, d(k − 1)).
    fn cross_weighted(&self, d: &dyn Fn(usize) -> f64) -> DMatrix<f64>;
    /// X'Wy = Σᵢ wᵢyᵢxᵢ.
    fn weighted_sum(&self, w: &[f64], y: &[f64]) -> DVector<f64>;
    /// The fitted values Xβ.
    fn times(&self, beta: &DVector<f64>) -> Vec<f64>;
    /// Row i (study i).
    fn model_row(&self, i: usize) -> ModelRow;
    /// The only column, when p = 1 (the fast scalar path of the fit).
    fn single_column(&self) -> Option<&[f64]> {
        None
    }
}

impl ModelMatrix for DMatrix<f64> {
    fn k(&self) -> usize {
        self.nrows()
    }
    fn p(&self) -> usize {
        self.ncols()
    }
    fn cross_weighted(&self, d: &dyn Fn(usize) -> f64) -> DMatrix<f64> {
        super::wls::cross_weighted(self, d)
    }
    fn weighted_sum(&self, w: &[f64], y: &[f64]) -> DVector<f64> {
        let (k, p) = self.shape();
        let columns = self.as_slice();
        DVector::from_fn(p, |a, _| {
            columns[a * k..(a + 1) * k]
                .iter()
                .zip(w)
                .zip(y)
                .fold(0.0, |acc, ((xa, wi), yi)| acc + xa * wi * yi)
        })
    }
    fn times(&self, beta: &DVector<f64>) -> Vec<f64> {
        (0..self.nrows())
            .map(|i| (0..self.ncols()).map(|a| self[(i, a)] * beta[a]).sum())
            .collect()
    }
    fn model_row(&self, i: usize) -> ModelRow {
        ModelRow::new(
            self.ncols(),
            (0..self.ncols()).map(|a| (a, self[(i, a)])).collect(),
        )
    }
    fn single_column(&self) -> Option<&[f64]> {
        (self.ncols() == 1).then(|| self.as_slice())
    }
}

/// One row of a model matrix, stored by its non-zero entries (a study's row
/// of dummies is mostly zeros) and written out in full (as a JSON array of p
/// numbers).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    len: usize,
    /// (column, value), columns increasing; zeros left out.
    entries: Vec<(usize, f64)>,
}

impl ModelRow {
    /// The row of `len` columns with the given (column, value) pairs, in
    /// column order; entries equal to +0 are dropped.
    pub fn new(len: usize, mut entries: Vec<(usize, f64)>) -> ModelRow {
        entries.retain(|(_, v)| v.to_bits() != 0);
        ModelRow { len, entries }
    }

    /// p: the number of columns.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value in column `j` (0 beyond the row).
    pub fn get(&self, j: usize) -> f64 {
        self.entries
            .binary_search_by_key(&j, |(c, _)| *c)
            .map_or(0.0, |at| self.entries[at].1)
    }

    /// The non-zero entries: (column, value), columns increasing.
    pub fn entries(&self) -> &[(usize, f64)] {
        &self.entries
    }

    /// The whole row, zeros included.
    pub fn to_vec(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.len];
        for &(j, v) in &self.entries {
            out[j] = v;
        }
        out
    }
}

impl Serialize for ModelRow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len))?;
        let mut entries = self.entries.iter().peekable();
        for j in 0..self.len {
            match entries.next_if(|(c, _)| *c == j) {
                Some((_, v)) => seq.serialize_element(v)?,
                None => seq.serialize_element(&0.0)?,
            }
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_keeps_its_values_and_writes_them_all() {
        let x = DMatrix::from_row_slice(2, 3, &[1.0, 0.0, -2.5, 1.0, 1.0, 0.0]);
        let row = x.model_row(0);
        assert_eq!(row.entries(), &[(0, 1.0), (2, -2.5)]);
        assert_eq!(row.to_vec(), vec![1.0, 0.0, -2.5]);
        assert_eq!((row.get(1), row.get(2), row.len()), (0.0, -2.5, 3));
        assert_eq!(
            serde_json::to_string(&row).unwrap(),
            serde_json::to_string(&[1.0, 0.0, -2.5]).unwrap()
        );
    }
}
