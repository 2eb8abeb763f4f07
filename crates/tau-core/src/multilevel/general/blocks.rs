//! The likelihood of a general `rma.mv` model block by block: the effect
//! sizes that no term and no sampling covariance link fall into separate
//! blocks of M, each factorised densely (see [`super::likelihood`] for the
//! formulas).

use nalgebra::{DMatrix, DVector};

use super::component::Component;
use super::likelihood::{Data, EvalError, Evaluation, Problem};
use crate::multilevel::likelihood::LN_2PI;

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
pub(super) struct Block {
    rows: Vec<usize>,
    x: DMatrix<f64>,
    y: DVector<f64>,
    v: DMatrix<f64>,
}

/// The rows of each block: rows linked by a sampling covariance, a shared
/// level or correlated levels, in order of their first row.
pub(super) fn linked_rows(
    k: usize,
    v_offdiagonal: &[(usize, usize, f64)],
    components: &[Component],
) -> Vec<Vec<usize>> {
    let mut sets = DisjointSets::new(k);
    for (i, l, _) in v_offdiagonal {
        sets.union(*i, *l);
    }
    for c in components {
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
    members
}

/// The blocks of `members` ([`linked_rows`]) with their data and V.
pub(super) fn blocks_of(data: Data<'_>, members: Vec<Vec<usize>>) -> Vec<Block> {
    let Data {
        y,
        x,
        vi,
        v_offdiagonal,
    } = data;
    let (k, p) = x.shape();
    // The block of each row and its place there.
    let mut index = vec![0usize; k];
    let mut position = vec![0usize; k];
    for (b, rows) in members.iter().enumerate() {
        for (a, &i) in rows.iter().enumerate() {
            (index[i], position[i]) = (b, a);
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
        let b = index[i];
        let (a, d) = (position[i], position[l]);
        blocks[b].v[(a, d)] = c;
        blocks[b].v[(d, a)] = c;
    }
    blocks
}

impl Problem {
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
            (
                Component::Structured {
                    outer,
                    inner,
                    design,
                    ..
                },
                Values::Structured { g, .. },
            ) if outer[i] == outer[l] => match design {
                None => g[(inner[i] as usize, inner[l] as usize)],
                Some(z) => (z.row(i) * g * z.row(l).transpose())[(0, 0)],
            },
            _ => 0.0,
        }
    }

    /// ℓ at `eta` block by block; with `random = false`, at M = V.
    pub(super) fn evaluate_blocks(
        &self,
        blocks: &[Block],
        eta: &[f64],
        random: bool,
        gradient: bool,
    ) -> Result<Evaluation, EvalError> {
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
                            Component::Structured { inner, design, .. } => {
                                if let Some(w) = &mut weights[ci] {
                                    match design {
                                        None => {
                                            w[(inner[i] as usize, inner[l] as usize)] += s[(a, b)]
                                        }
                                        // ∂(zᵢᵀ G zₗ) = zᵢᵀ ∂G zₗ: add s·zᵢzₗᵀ.
                                        Some(z) => {
                                            *w += z.row(i).transpose() * z.row(l) * s[(a, b)]
                                        }
                                    }
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
