//! The marginal covariance of a nested multilevel model at given variance
//! components, block by outermost cluster, and what the BLUPs
//! ([`super::ranef`]) and the case diagnostics
//! (`crate::sensitivity::multilevel_influence`) take
//! from it.
//!
//! M = V + Σₗ σ²ₗ ZₗZₗ' (metafor's `M`) is block-diagonal by the outermost
//! cluster: within a block, M_ab = [a = b] vₐ + [a ≠ b] ρ√(vₐv_b) + Σ σ²ₗ over
//! the levels l at which rows a and b share a unit. Each block is factorised
//! on its own, so W = M⁻¹ costs Σ n_c³ for clusters of n_c effect sizes, not
//! k³. From it, as in metafor's `rma.mv`:
//!
//! * vb = (X'WX)⁻¹ (metafor's `vb`) and β̂ = vb X'Wy;
//! * e = y − Xβ̂, the marginal residuals.

use nalgebra::{DMatrix, DVector};

use super::{MultilevelError, Prepared};

/// M, W = M⁻¹, vb and β̂ of one model at one set of σ².
pub(crate) struct Marginal {
    /// Block c of M, rows `blocks[c].start..` of the blocked order.
    pub m: Vec<DMatrix<f64>>,
    /// Block c of W = M⁻¹.
    pub w: Vec<DMatrix<f64>>,
    /// Block c of X (its rows in blocked order).
    pub x: Vec<DMatrix<f64>>,
    /// Block c of e = y − Xβ̂.
    pub e: Vec<DVector<f64>>,
    /// (X'WX)⁻¹.
    pub vb: DMatrix<f64>,
    /// β̂.
    pub beta: DVector<f64>,
    /// `block_of[r]`, for model row r (the order of `Prepared::rows`): its
    /// block and its position in the block.
    pub block_of: Vec<(usize, usize)>,
}

impl Marginal {
    /// The marginal quantities of `prepared` at `sigma2` (outermost level
    /// first) and sampling correlation `rho` (0 without).
    pub(crate) fn new(
        prepared: &Prepared<'_>,
        sigma2: &[f64],
        rho: f64,
    ) -> Result<Marginal, MultilevelError> {
        let structure = &prepared.structure;
        let p = prepared.x.ncols();
        let mut block_of = vec![(0, 0); prepared.rows.len()];
        let (mut ms, mut ws, mut xs, mut ys) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut xtwx = DMatrix::<f64>::zeros(p, p);
        let mut xtwy = DVector::<f64>::zeros(p);
        for (c, block) in structure.blocks.iter().enumerate() {
            let rows: Vec<usize> = (block.start..block.start + block.len)
                .map(|b| structure.order[b])
                .collect();
            for (position, &r) in rows.iter().enumerate() {
                block_of[r] = (c, position);
            }
            let n = rows.len();
            let m = DMatrix::from_fn(n, n, |a, b| {
                let (va, vb) = (prepared.vi[rows[a]], prepared.vi[rows[b]]);
                let sampling = if a == b { va } else { rho * (va * vb).sqrt() };
                let shared: f64 = (0..structure.levels())
                    .filter(|&l| {
                        structure.local[l][block.start + a] == structure.local[l][block.start + b]
                    })
                    .map(|l| sigma2[l])
                    .sum();
                sampling + shared
            });
            let w = m
                .clone()
                .cholesky()
                .ok_or_else(|| MultilevelError::NotPositiveDefinite {
                    cluster: structure.labels.get(c).cloned().unwrap_or_default(),
                })?
                .inverse();
            let x = DMatrix::from_fn(n, p, |a, j| prepared.x[(rows[a], j)]);
            let y = DVector::from_iterator(
                n,
                rows.iter()
                    .map(|&r| prepared.data.studies[prepared.rows[r]].yi),
            );
            let xtw = x.transpose() * &w;
            xtwx += &xtw * &x;
            xtwy += &xtw * &y;
            ms.push(m);
            ws.push(w);
            xs.push(x);
            ys.push(y);
        }
        let vb = xtwx.cholesky().ok_or(MultilevelError::Singular)?.inverse();
        let beta = &vb * xtwy;
        let e = xs.iter().zip(&ys).map(|(x, y)| y - x * &beta).collect();
        Ok(Marginal {
            m: ms,
            w: ws,
            x: xs,
            e,
            vb,
            beta,
            block_of,
        })
    }

    /// M_ab for model rows a and b (0 across outermost clusters).
    pub(crate) fn m_entry(&self, a: usize, b: usize) -> f64 {
        let ((ca, pa), (cb, pb)) = (self.block_of[a], self.block_of[b]);
        if ca == cb { self.m[ca][(pa, pb)] } else { 0.0 }
    }

    /// Row r of X (model row order).
    pub(crate) fn x_row(&self, r: usize) -> DVector<f64> {
        let (c, position) = self.block_of[r];
        self.x[c].row(position).transpose()
    }

    /// eᵣ = yᵣ − xᵣ'β̂ (model row order).
    pub(crate) fn residual(&self, r: usize) -> f64 {
        let (c, position) = self.block_of[r];
        self.e[c][position]
    }
}
