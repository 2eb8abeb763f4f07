//! The variance components of a general `rma.mv` model: σ² of a
//! `~ 1 | g` term (with a known correlation matrix or independent levels)
//! and a structured `~ inner | outer` term.

use nalgebra::DMatrix;

use super::covariance::Struct;

/// One variance component of M.
#[derive(Debug, Clone)]
pub(crate) enum Component {
    /// σ² on the levels of a grouping (`~ 1 | g`), with a known
    /// correlation matrix over the levels (`R =`) or independent levels.
    Sigma {
        /// The level of each row.
        group: Vec<u32>,
        /// Known correlations between levels, or `None` (identity).
        corr: Option<DMatrix<f64>>,
        /// σ² fixed at 0 (a single level; as metafor).
        fixed: bool,
    },
    /// A structured term `~ inner | outer`.
    Structured {
        /// The outer level of each row.
        outer: Vec<u32>,
        /// The inner level of each row (index into `times`).
        inner: Vec<u32>,
        /// The inner levels as times (AR, HAR: 0, 1, ...; CAR: the values;
        /// GEN: one per column of `design`).
        times: Vec<f64>,
        /// The structure.
        kind: Struct,
        /// GEN: each row's values of the inner design (intercept, slopes),
        /// zᵢ, so that the term adds zᵢᵀ G zₗ between rows of one outer
        /// level; `None` for the other structures (zᵢ picks a level).
        design: Option<DMatrix<f64>>,
    },
}

impl Component {
    /// The number of free parameters.
    pub fn n_params(&self) -> usize {
        match self {
            Component::Sigma { fixed, .. } => usize::from(!fixed),
            Component::Structured { times, kind, .. } => kind.n_params(times.len()),
        }
    }

    /// Whether rows `i` and `l` are linked by this component.
    pub(super) fn links(&self, i: usize, l: usize) -> bool {
        match self {
            Component::Sigma { group, corr, .. } => match corr {
                None => group[i] == group[l],
                Some(r) => r[(group[i] as usize, group[l] as usize)] != 0.0,
            },
            Component::Structured { outer, .. } => outer[i] == outer[l],
        }
    }
}
