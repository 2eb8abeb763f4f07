//! The likelihood of a general `rma.mv` model through Henderson's
//! mixed-model equations, for models whose marginal covariance links many
//! effect sizes into one block (crossed terms, a phylogeny), where the
//! dense k × k factorisation of [`super::likelihood`] is out of reach.
//!
//! Write M = W + Z G Zᵀ, with W diagonal (the sampling variances plus every
//! σ² of a term whose levels each hold one effect size, `~ 1 | es`), Z the
//! 0/1 incidence of the effect sizes on the q random effects of the other
//! terms, and G their covariance (σ² I, σ² R for a known correlation R, or
//! one structured block per outer level). With the q × q matrix
//! C = ZᵀW⁻¹Z + G⁻¹ (Henderson 1975; Searle, Casella & McCulloch 1992, §7.6):
//!
//! * M⁻¹ = W⁻¹ − W⁻¹ Z C⁻¹ Zᵀ W⁻¹ (Woodbury) and log|M| = log|W| + log|G| + log|C|;
//! * ZᵀM⁻¹ = G⁻¹ C⁻¹ Zᵀ W⁻¹ and ZᵀM⁻¹Z = G⁻¹ − G⁻¹ C⁻¹ G⁻¹;
//! * for a parameter θ of G, with P as in [`super::likelihood`] and
//!   B = ZᵀM⁻¹X, A = XᵀM⁻¹X, u = ZᵀM⁻¹r:
//!   2 ∂ℓ/∂θ = uᵀ ∂G u − tr(G⁻¹∂G) + tr(C⁻¹ G⁻¹∂G G⁻¹) [+ tr(A⁻¹ Bᵀ ∂G B), REML];
//! * for a σ² on the diagonal of W: 2 ∂ℓ/∂σ² = |M⁻¹r|² − tr(M⁻¹)
//!   [+ tr(A⁻¹ XᵀM⁻²X), REML], with tr(M⁻¹) = Σ 1/Wᵢ − tr(C⁻¹ ZᵀW⁻²Z).
//!
//! The numbers are those of the block-by-block likelihood (the unit tests
//! fit every metafor fixture both ways); only the cost differs: one
//! factorisation of C, O(k + q³), rather than of M, O(k³).

mod gradient;
mod likelihood;

use nalgebra::{DMatrix, DVector};

use super::equations::Split;
use super::likelihood::Component;
use super::spd::Factor;

/// How a component enters M.
#[derive(Debug, Clone)]
enum Part {
    /// σ² of a term whose levels each hold one effect size: on W's diagonal.
    Diagonal,
    /// σ² fixed at 0.
    Fixed,
    /// Random effects in columns `offset..offset + size` of Z.
    Effects {
        /// The column of each row (offset included).
        column: Vec<usize>,
        offset: usize,
        size: usize,
        kind: EffectsKind,
    },
}

/// The covariance G of one component's random effects.
#[derive(Debug, Clone)]
enum EffectsKind {
    /// σ² I.
    Independent,
    /// σ² R, R known.
    Known { r_inv: DMatrix<f64>, log_det_r: f64 },
    /// One block of G over the inner levels present in each outer level.
    Structured {
        /// Per outer level: the inner levels of its columns, in order.
        outers: Vec<Vec<usize>>,
    },
}

/// A general model set up for the mixed-model equations.
#[derive(Debug, Clone)]
pub(crate) struct Henderson {
    y: DVector<f64>,
    x: DMatrix<f64>,
    vi: Vec<f64>,
    parts: Vec<Part>,
    q: usize,
    /// The random effects eliminated first (see [`super::equations`]).
    split: Split,
    /// Whether the gradient reads only diagonal entries of S⁻¹ (see
    /// [`reads_diagonal_only`]).
    diagonal_inverse: bool,
}

/// A component's parameters at one point.
enum Values {
    Sigma(f64),
    Structured {
        /// Per outer level: G⁻¹ of its block, and G⁻¹ ∂G (one per parameter).
        blocks: Vec<(DMatrix<f64>, Vec<DMatrix<f64>>)>,
        /// ∂G over all inner levels, one per parameter.
        dg: Vec<DMatrix<f64>>,
    },
}

impl Henderson {
    /// Sets up `components`, or `None` when one cannot take this route (a
    /// known correlation matrix that is not positive definite).
    pub fn new(
        y: &[f64],
        x: &DMatrix<f64>,
        vi: &[f64],
        components: &[Component],
    ) -> Option<Henderson> {
        let k = y.len();
        let mut parts = Vec::with_capacity(components.len());
        let mut q = 0;
        for c in components {
            let part = match c {
                Component::Sigma { fixed: true, .. } => Part::Fixed,
                Component::Sigma { group, corr, .. } => {
                    let levels = group.iter().map(|&g| g as usize + 1).max().unwrap_or(0);
                    match corr {
                        None if levels == k && distinct(group, levels) => Part::Diagonal,
                        None => effects(group, &mut q, levels, EffectsKind::Independent),
                        Some(r) => {
                            let factor = Factor::new(r)?;
                            let kind = EffectsKind::Known {
                                log_det_r: factor.log_det(),
                                r_inv: factor.inverse(),
                            };
                            effects(group, &mut q, r.nrows(), kind)
                        }
                    }
                }
                Component::Structured { outer, inner, .. } => structured(outer, inner, &mut q),
            };
            parts.push(part);
        }
        let split = parts
            .iter()
            .filter_map(|p| match p {
                Part::Effects {
                    offset,
                    size,
                    kind: EffectsKind::Independent,
                    ..
                } => Some(Split {
                    offset: *offset,
                    size: *size,
                }),
                _ => None,
            })
            .max_by_key(|s| s.size)
            .unwrap_or_else(Split::none);
        Some(Henderson {
            diagonal_inverse: reads_diagonal_only(&parts, split, q),
            split,
            y: DVector::from_column_slice(y),
            x: x.clone(),
            vi: vi.to_vec(),
            parts,
            q,
        })
    }

    /// Whether the gradient reads only the diagonal of S⁻¹.
    #[cfg(test)]
    pub fn reads_diagonal_only(&self) -> bool {
        self.diagonal_inverse
    }

    /// The order of the matrix factorised densely (S of
    /// [`super::equations`]).
    pub fn dense_order(&self) -> usize {
        self.q - self.split.size
    }
}

/// Whether the gradient needs no off-diagonal entry of S⁻¹, so that
/// [`super::equations::Equations::invert_diagonal`] serves it: no
/// structured term; each effect size in at most one column of block (2);
/// each level of block (1) sharing effect sizes with at most one column of
/// block (2); and a known correlation, if any, filling block (2) alone (its
/// trace then comes from the diagonal, see `gradient`). A phylogenetic
/// model (`~ 1 | species` and `~ 1 | phylo` on the same levels) is one.
fn reads_diagonal_only(parts: &[Part], split: Split, q: usize) -> bool {
    use super::equations::Place;
    let q2 = q - split.size;
    let mut known = 0;
    let mut columns: Vec<&[usize]> = Vec::new();
    for part in parts {
        let Part::Effects {
            column, size, kind, ..
        } = part
        else {
            continue;
        };
        match kind {
            EffectsKind::Structured { .. } => return false,
            EffectsKind::Known { .. } if *size != q2 => return false,
            EffectsKind::Known { .. } => known += 1,
            EffectsKind::Independent => {}
        }
        columns.push(column);
    }
    if known > 1 {
        return false;
    }
    let mut partner: Vec<Option<usize>> = vec![None; split.size];
    let rows = columns.first().map_or(0, |c| c.len());
    for i in 0..rows {
        let (mut first, mut second) = (None, None);
        for column in &columns {
            match split.place(column[i]) {
                Place::First(j) => first = Some(j),
                Place::Second(_) if second.is_some() => return false,
                Place::Second(l) => second = Some(l),
            }
        }
        if let (Some(j), Some(l)) = (first, second) {
            match partner[j] {
                Some(m) if m != l => return false,
                _ => partner[j] = Some(l),
            }
        }
    }
    true
}

/// Whether the `levels` labels of `group` each occur once.
fn distinct(group: &[u32], levels: usize) -> bool {
    let mut seen = vec![false; levels];
    group
        .iter()
        .all(|&g| !std::mem::replace(&mut seen[g as usize], true))
}

fn effects(group: &[u32], q: &mut usize, size: usize, kind: EffectsKind) -> Part {
    let offset = *q;
    *q += size;
    Part::Effects {
        column: group.iter().map(|&g| offset + g as usize).collect(),
        offset,
        size,
        kind,
    }
}

/// The columns of a structured term: one per (outer, inner) pair present,
/// grouped by outer level.
fn structured(outer: &[u32], inner: &[u32], q: &mut usize) -> Part {
    let n_outer = outer.iter().map(|&o| o as usize + 1).max().unwrap_or(0);
    let mut outers: Vec<Vec<usize>> = vec![Vec::new(); n_outer];
    for (&o, &a) in outer.iter().zip(inner) {
        let levels = &mut outers[o as usize];
        if !levels.contains(&(a as usize)) {
            levels.push(a as usize);
        }
    }
    let offset = *q;
    let mut starts = Vec::with_capacity(n_outer);
    for levels in &outers {
        starts.push(*q);
        *q += levels.len();
    }
    let column = outer
        .iter()
        .zip(inner)
        .map(|(&o, &a)| {
            let levels = &outers[o as usize];
            starts[o as usize] + levels.iter().position(|&l| l == a as usize).unwrap_or(0)
        })
        .collect();
    Part::Effects {
        column,
        offset,
        size: *q - offset,
        kind: EffectsKind::Structured { outers },
    }
}
