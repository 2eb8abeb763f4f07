//! The REML/ML log-likelihood of a general `rma.mv` model and its gradient:
//! the formulas, and the [`Problem`] that evaluates them.
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
//!
//! A [`Problem`] evaluates ℓ by one of two routes: dense blocks of M
//! ([`super::blocks`]) or, for a model whose one large block is cheaper
//! through the random effects, the mixed-model equations
//! ([`super::henderson`]).

use nalgebra::{DMatrix, DVector};

use super::blocks::{Block, blocks_of, linked_rows};
pub(crate) use super::component::Component;
use super::henderson::Henderson;

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
        let members = linked_rows(k, v_offdiagonal, &components);
        let largest = members.iter().map(Vec::len).max().unwrap_or(0);
        let henderson = match route {
            Route::Blocks => None,
            Route::Auto if largest <= SMALL_BLOCK => None,
            _ if !v_offdiagonal.is_empty() => None,
            // Random slopes are fitted block by block.
            _ if components.iter().any(|c| {
                matches!(
                    c,
                    Component::Structured {
                        design: Some(_),
                        ..
                    }
                )
            }) =>
            {
                None
            }
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
        Problem {
            k,
            p,
            components,
            reml,
            log_det_xtx,
            layout: Layout::Blocks(blocks_of(data, members)),
        }
    }

    /// The number of free parameters.
    pub fn n_params(&self) -> usize {
        self.components.iter().map(Component::n_params).sum()
    }

    /// ℓ at `eta`; with `random = false`, at M = V (the fixed-effects fit).
    pub fn evaluate(
        &self,
        eta: &[f64],
        random: bool,
        gradient: bool,
    ) -> Result<Evaluation, EvalError> {
        match &self.layout {
            Layout::Blocks(blocks) => self.evaluate_blocks(blocks, eta, random, gradient),
            Layout::Henderson { random: h, .. } if random => {
                h.evaluate(&self.components, self.reml, self.log_det_xtx, eta, gradient)
            }
            Layout::Henderson { fixed, .. } => {
                fixed.evaluate(&[], self.reml, self.log_det_xtx, &[], gradient)
            }
        }
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
