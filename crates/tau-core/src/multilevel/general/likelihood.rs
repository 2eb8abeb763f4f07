//! The REML/ML log-likelihood of a general `rma.mv` model and its gradient,
//! block by block.
//!
//! The marginal covariance is M = V + Σ_c Z_c G_c Z_cᵀ. Two effect sizes
//! are in one block when a term or V links them (a shared level of a
//! `~ 1 | g` term, a shared outer level of `~ inner | outer`, a non-zero
//! known correlation or sampling covariance); M is block-diagonal over
//! these blocks, each factorised densely. With P = M⁻¹ − M⁻¹X(XᵀM⁻¹X)⁻¹XᵀM⁻¹:
//!
//! * ML: ℓ = −½ [k log 2π + log|M| + rᵀM⁻¹r];
//! * REML: ℓ = −½ [(k − p) log 2π − log|XᵀX| + log|M| + log|XᵀM⁻¹X| + rᵀM⁻¹r]
//!   (metafor's `.ll.rma.mv` with `REMLf = TRUE`);
//! * ∂ℓ/∂θ = ½ Σᵢⱼ (∂M/∂θ)ᵢⱼ [(Py)ᵢ(Py)ⱼ − Qᵢⱼ], Q = P (REML) or M⁻¹ (ML)
//!   (Harville 1977), summed pair by pair within blocks, never forming P.

use nalgebra::{DMatrix, DVector};

use super::covariance::Struct;
use super::henderson::Henderson;
use crate::multilevel::likelihood::LN_2PI;

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
        /// The inner levels as times (AR, HAR: 0, 1, ...; CAR: the values).
        times: Vec<f64>,
        /// The structure.
        kind: Struct,
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
    fn links(&self, i: usize, l: usize) -> bool {
        match self {
            Component::Sigma { group, corr, .. } => match corr {
                None => group[i] == group[l],
                Some(r) => r[(group[i] as usize, group[l] as usize)] != 0.0,
            },
            Component::Structured { outer, .. } => outer[i] == outer[l],
        }
    }
}

/// The component's values at one point: σ², or G and its derivatives.
pub(super) enum Values {
    Sigma(f64),
    Structured {
        g: DMatrix<f64>,
        dg: Vec<DMatrix<f64>>,
    },
}

/// One block of rows of M.
#[derive(Debug, Clone)]
struct Block {
    rows: Vec<usize>,
    x: DMatrix<f64>,
    y: DVector<f64>,
    v: DMatrix<f64>,
}

/// The data of a fit.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    /// Effect sizes.
    pub k: usize,
    /// Coefficients.
    pub p: usize,
    /// The variance components, in metafor's order.
    pub components: Vec<Component>,
    /// REML (or ML).
    pub reml: bool,
    /// log|XᵀX|.
    pub log_det_xtx: f64,
    layout: Layout,
}

/// How M is factorised.
#[derive(Debug, Clone)]
enum Layout {
    /// Block by block, densely.
    Blocks(Vec<Block>),
    /// Through the mixed-model equations, for the random effects and (with
    /// no random effects) for the fixed-effects fit.
    Henderson {
        random: Box<Henderson>,
        fixed: Box<Henderson>,
    },
}

/// Which factorisation a problem uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// The cheaper one.
    Auto,
    /// Dense blocks of M.
    #[cfg_attr(not(test), allow(dead_code))]
    Blocks,
    /// The mixed-model equations, where they apply.
    Henderson,
}

/// Blocks up to this size are always factorised densely.
const SMALL_BLOCK: usize = 150;

/// The log-likelihood and what comes with it at one point.
#[derive(Debug, Clone)]
pub(crate) struct Evaluation {
    /// The log-likelihood of the method.
    pub ll: f64,
    /// The ML log-likelihood.
    pub ll_ml: f64,
    /// The coefficients.
    pub beta: DVector<f64>,
    /// Their covariance (XᵀM⁻¹X)⁻¹.
    pub vcov: DMatrix<f64>,
    /// rᵀM⁻¹r.
    pub rss: f64,
    /// log|M|.
    pub log_det_m: f64,
    /// ∂ℓ/∂η (empty unless asked for).
    pub gradient: Vec<f64>,
}

/// Why a point cannot be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EvalError {
    /// M is not positive definite (in the block holding this row).
    NotPositiveDefinite(usize),
    /// XᵀM⁻¹X is singular.
    Singular,
}

impl Problem {
    /// Groups the rows into blocks. `v_offdiagonal` lists the non-zero
    /// sampling covariances (i < l).
    pub fn new(
        y: &[f64],
        x: &DMatrix<f64>,
        vi: &[f64],
        v_offdiagonal: &[(usize, usize, f64)],
        components: Vec<Component>,
        reml: bool,
        log_det_xtx: f64,
    ) -> Problem {
        let data = Data {
            y,
            x,
            vi,
            v_offdiagonal,
        };
        Problem::routed(data, components, reml, log_det_xtx, Route::Auto)
    }

    /// [`Problem::new`] by the given route. The mixed-model equations take
    /// models without known sampling covariances; they are chosen when M
    /// has a block larger than [`SMALL_BLOCK`] and the matrix they
    /// factorise densely is smaller than that block.
    pub fn routed(
        data: Data<'_>,
        components: Vec<Component>,
        reml: bool,
        log_det_xtx: f64,
        route: Route,
    ) -> Problem {
        let Data {
            y,
            x,
            vi,
            v_offdiagonal,
        } = data;
        let (k, p) = x.shape();
        let mut sets = DisjointSets::new(k);
        for (i, l, _) in v_offdiagonal {
            sets.union(*i, *l);
        }
        for c in &components {
            match c {
                Component::Sigma {
                    group, corr: None, ..
                } => sets.union_by(group),
                Component::Structured { outer, .. } => sets.union_by(outer),
                Component::Sigma {
                    group,
                    corr: Some(r),
                    ..
                } => {
                    // Rows of correlated levels: one representative row per level.
                    let mut first: Vec<Option<usize>> = vec![None; r.nrows()];
                    for (i, &g) in group.iter().enumerate() {
                        match first[g as usize] {
                            Some(f) => sets.union(f, i),
                            None => first[g as usize] = Some(i),
                        }
                    }
                    for a in 0..r.nrows() {
                        for b in 0..a {
                            if r[(a, b)] != 0.0
                                && let (Some(i), Some(l)) = (first[a], first[b])
                            {
                                sets.union(i, l);
                            }
                        }
                    }
                }
            }
        }
        let mut index = vec![usize::MAX; k];
        let mut members: Vec<Vec<usize>> = Vec::new();
        for i in 0..k {
            let root = sets.find(i);
            if index[root] == usize::MAX {
                index[root] = members.len();
                members.push(Vec::new());
            }
            members[index[root]].push(i);
        }
        let largest = members.iter().map(Vec::len).max().unwrap_or(0);
        let henderson = match route {
            Route::Blocks => None,
            Route::Auto if largest <= SMALL_BLOCK => None,
            _ if !v_offdiagonal.is_empty() => None,
            _ => Henderson::new(y, x, vi, &components)
                .filter(|h| route == Route::Henderson || h.dense_order() < largest),
        };
        if let Some(random) = henderson
            && let Some(fixed) = Henderson::new(y, x, vi, &[])
        {
            return Problem {
                k,
                p,
                components,
                reml,
                log_det_xtx,
                layout: Layout::Henderson {
                    random: Box::new(random),
                    fixed: Box::new(fixed),
                },
            };
        }
        let mut position = vec![0usize; k];
        for rows in &members {
            for (a, &i) in rows.iter().enumerate() {
                position[i] = a;
            }
        }
        let mut blocks: Vec<Block> = members
            .into_iter()
            .map(|rows| {
                let n = rows.len();
                Block {
                    x: DMatrix::from_fn(n, p, |a, c| x[(rows[a], c)]),
                    y: DVector::from_fn(n, |a, _| y[rows[a]]),
                    v: DMatrix::from_fn(n, n, |a, b| if a == b { vi[rows[a]] } else { 0.0 }),
                    rows,
                }
            })
            .collect();
        for &(i, l, c) in v_offdiagonal {
            let b = index[sets.find(i)];
            let (a, d) = (position[i], position[l]);
            blocks[b].v[(a, d)] = c;
            blocks[b].v[(d, a)] = c;
        }
        Problem {
            k,
            p,
            components,
            reml,
            log_det_xtx,
            layout: Layout::Blocks(blocks),
        }
    }

    /// The number of free parameters.
    pub fn n_params(&self) -> usize {
        self.components.iter().map(Component::n_params).sum()
    }

    pub(super) fn values(&self, eta: &[f64], gradient: bool) -> Vec<Values> {
        let mut next = 0;
        self.components
            .iter()
            .map(|c| {
                let n = c.n_params();
                let e = &eta[next..next + n];
                next += n;
                match c {
                    Component::Sigma { fixed, .. } => {
                        Values::Sigma(if *fixed { 0.0 } else { e[0].exp() })
                    }
                    Component::Structured { times, kind, .. } => {
                        let g = kind.matrix(times, e);
                        let dg = if gradient {
                            (0..n)
                                .map(|q| {
                                    // Central differences of the small matrix G:
                                    // error of order h² ≈ 1e-12 relative.
                                    let h = 1e-6;
                                    let mut plus = e.to_vec();
                                    plus[q] += h;
                                    let mut minus = e.to_vec();
                                    minus[q] -= h;
                                    (kind.matrix(times, &plus) - kind.matrix(times, &minus))
                                        / (2.0 * h)
                                })
                                .collect()
                        } else {
                            Vec::new()
                        };
                        Values::Structured { g, dg }
                    }
                }
            })
            .collect()
    }

    /// The covariance that component `c` adds between rows `i` and `l`.
    pub(super) fn covariance(c: &Component, values: &Values, i: usize, l: usize) -> f64 {
        match (c, values) {
            (Component::Sigma { group, corr, .. }, Values::Sigma(s)) => match corr {
                None if group[i] == group[l] => *s,
                None => 0.0,
                Some(r) => s * r[(group[i] as usize, group[l] as usize)],
            },
            (Component::Structured { outer, inner, .. }, Values::Structured { g, .. })
                if outer[i] == outer[l] =>
            {
                g[(inner[i] as usize, inner[l] as usize)]
            }
            _ => 0.0,
        }
    }

    /// ℓ at `eta`; with `random = false`, at M = V (the fixed-effects fit).
    pub fn evaluate(
        &self,
        eta: &[f64],
        random: bool,
        gradient: bool,
    ) -> Result<Evaluation, EvalError> {
        let blocks = match &self.layout {
            Layout::Blocks(blocks) => blocks,
            Layout::Henderson { random: h, .. } if random => {
                return h.evaluate(&self.components, self.reml, self.log_det_xtx, eta, gradient);
            }
            Layout::Henderson { fixed, .. } => {
                return fixed.evaluate(&[], self.reml, self.log_det_xtx, &[], gradient);
            }
        };
        let p = self.p;
        let values = if random {
            self.values(eta, gradient)
        } else {
            Vec::new()
        };
        let mut a_mat = DMatrix::<f64>::zeros(p, p);
        let mut c_vec = DVector::<f64>::zeros(p);
        let mut log_det_m = 0.0;
        let mut inverses = Vec::with_capacity(blocks.len());
        for block in blocks {
            let n = block.rows.len();
            let mut m = block.v.clone();
            for (c, val) in self.components.iter().zip(&values) {
                for a in 0..n {
                    for b in 0..n {
                        m[(a, b)] += Self::covariance(c, val, block.rows[a], block.rows[b]);
                    }
                }
            }
            let chol =
                nalgebra::Cholesky::new(m).ok_or(EvalError::NotPositiveDefinite(block.rows[0]))?;
            log_det_m += 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
            let mi = chol.inverse();
            let mix = &mi * &block.x;
            a_mat += block.x.transpose() * &mix;
            c_vec += mix.transpose() * &block.y;
            inverses.push((mi, mix));
        }
        let a_chol = nalgebra::Cholesky::new(a_mat).ok_or(EvalError::Singular)?;
        let log_det_a = 2.0 * a_chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
        let vcov = a_chol.inverse();
        let beta = &vcov * c_vec;
        let mut rss = 0.0;
        let mut gradient_out = vec![0.0; if gradient { eta.len() } else { 0 }];
        let mut weights: Vec<Option<DMatrix<f64>>> = self
            .components
            .iter()
            .map(|c| match c {
                Component::Structured { times, .. } if gradient => {
                    Some(DMatrix::zeros(times.len(), times.len()))
                }
                _ => None,
            })
            .collect();
        let mut sigma_sums = vec![0.0; self.components.len()];
        for (block, (mi, mix)) in blocks.iter().zip(&inverses) {
            let r = &block.y - &block.x * &beta;
            let pr = mi * &r;
            rss += r.dot(&pr);
            if !gradient {
                continue;
            }
            let mut s = &pr * pr.transpose() - mi;
            if self.reml {
                s += mix * &vcov * mix.transpose();
            }
            let n = block.rows.len();
            for (ci, c) in self.components.iter().enumerate() {
                for a in 0..n {
                    for b in 0..n {
                        let (i, l) = (block.rows[a], block.rows[b]);
                        if !c.links(i, l) {
                            continue;
                        }
                        match c {
                            Component::Sigma { group, corr, .. } => {
                                let pattern = match corr {
                                    None => 1.0,
                                    Some(m) => m[(group[i] as usize, group[l] as usize)],
                                };
                                sigma_sums[ci] += pattern * s[(a, b)];
                            }
                            Component::Structured { inner, .. } => {
                                if let Some(w) = &mut weights[ci] {
                                    w[(inner[i] as usize, inner[l] as usize)] += s[(a, b)];
                                }
                            }
                        }
                    }
                }
            }
        }
        if gradient {
            let mut next = 0;
            for (ci, (c, val)) in self.components.iter().zip(&values).enumerate() {
                let n = c.n_params();
                match val {
                    Values::Sigma(sigma) if n == 1 => {
                        gradient_out[next] = 0.5 * sigma * sigma_sums[ci];
                    }
                    Values::Structured { dg, .. } => {
                        if let Some(w) = &weights[ci] {
                            for (q, d) in dg.iter().enumerate() {
                                gradient_out[next + q] = 0.5 * d.component_mul(w).sum();
                            }
                        }
                    }
                    Values::Sigma(_) => {}
                }
                next += n;
            }
        }
        let k = self.k as f64;
        let ll_ml = -0.5 * (k * LN_2PI + log_det_m + rss);
        let ll = if self.reml {
            -0.5 * ((k - p as f64) * LN_2PI - self.log_det_xtx + log_det_m + log_det_a + rss)
        } else {
            ll_ml
        };
        Ok(Evaluation {
            ll,
            ll_ml,
            beta,
            vcov,
            rss,
            log_det_m,
            gradient: gradient_out,
        })
    }
}

/// The data of a problem: outcomes, model matrix, sampling variances and
/// the non-zero sampling covariances (i < l).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Data<'a> {
    pub y: &'a [f64],
    pub x: &'a DMatrix<f64>,
    pub vi: &'a [f64],
    pub v_offdiagonal: &'a [(usize, usize, f64)],
}

/// Union-find over rows.
struct DisjointSets {
    parent: Vec<usize>,
}

impl DisjointSets {
    fn new(n: usize) -> DisjointSets {
        DisjointSets {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
        }
    }

    /// Joins the rows that share a label.
    fn union_by(&mut self, labels: &[u32]) {
        let mut first: crate::input::moderators::FnvMap<u32, usize> = Default::default();
        for (i, &g) in labels.iter().enumerate() {
            match first.get(&g) {
                Some(&f) => self.union(f, i),
                None => {
                    first.insert(g, i);
                }
            }
        }
    }
}
