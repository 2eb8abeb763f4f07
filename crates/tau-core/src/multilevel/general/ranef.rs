//! Best linear unbiased predictions of the random effects of a general
//! `rma.mv` fit: metafor's `ranef()` of models with crossed `~ 1 | g` terms
//! and structured `~ inner | outer` terms.
//!
//! With W = M⁻¹, e = y − Xβ̂ and P = W − WX(XᵀWX)⁻¹XᵀW (metafor's
//! `ranef.rma.mv`, `W %*% (I - Hmat)`):
//!
//! * a `~ 1 | g` term with variance σ² and indicator matrix Z (one column
//!   per level): û = σ² ZᵀWe, Var(û − u) = σ²I − σ⁴ ZᵀPZ;
//! * a structured term, per effect size i: Gᵢₗ = G[innerᵢ, innerₗ] where
//!   outerᵢ = outerₗ (else 0), û = GWe, Var(û − u) = G − GPG; one row per
//!   pair (inner, outer) present, named "inner | outer" (metafor's row
//!   names, without their padding), ordered by outer, then inner;
//! * prediction intervals û ± crit·se, crit the normal quantile, or that
//!   of t with k − p df under `test = t`.
//!
//! The levels of a `~ 1 | g` term are sorted as R's `factor()` in the C
//! locale; a nested level is named by its labels joined with "/". M is
//! formed densely, as for user weights.

use nalgebra::{DMatrix, DVector};

use super::GeneralOptions;
use super::likelihood::Component;
use super::maximised::Maximised;
use super::prepare::Term;
use super::weights::{MAX_WEIGHTED, marginal};
use crate::input::Moderator;
use crate::multilevel::ranef::{Key, RandomEffect, Ranef, compare_keys};
use crate::multilevel::{MultilevelError, Test};
use crate::numerics::distribution::{normal_upper, t_upper};

/// The BLUPs of the general model of `options` on `dataset`.
pub fn ranef(
    dataset: &crate::data::dataset::Dataset,
    options: &GeneralOptions,
) -> Result<Ranef, MultilevelError> {
    let options = GeneralOptions {
        profile: false,
        ..options.clone()
    };
    let m = Maximised::new(dataset, &options)?;
    let p = &m.prepared;
    if p.weights.is_some() {
        return Err(MultilevelError::Weights(
            "the BLUPs (`blup`; metafor's ranef) of a model with user weights are not available (metafor's ranef stops for them); leave out `blup`, or remove the weight field".into(),
        ));
    }
    let (k, n_coef) = p.x.shape();
    if k > MAX_WEIGHTED {
        return Err(MultilevelError::Weights(format!(
            "{k} effect sizes: the BLUPs (`blup`) of a crossed or structured model are computed from the dense marginal covariance matrix, for at most {MAX_WEIGHTED} effect sizes; leave out `blup`"
        )));
    }
    let eta = &m.maximum.eta;
    let big_m = marginal(&m.problem, &p.vi, &p.v_offdiagonal, eta);
    let w = nalgebra::Cholesky::new(big_m)
        .ok_or(MultilevelError::Singular)?
        .inverse();
    let wx = &w * &p.x;
    let vb = nalgebra::Cholesky::new(p.x.transpose() * &wx)
        .ok_or(MultilevelError::Singular)?
        .inverse();
    let y = DVector::from_column_slice(&p.y);
    let e = &y - &p.x * &m.maximum.eval.beta;
    let we = &w * &e;
    let proj = &w - &wx * &vb * wx.transpose();
    let alpha = (1.0 - options.level / 100.0) / 2.0;
    let crit = match options.test {
        Test::Z => normal_upper(alpha),
        Test::T => t_upper(alpha, (k - n_coef) as f64),
    };
    let effect = |level: String, prediction: f64, variance: f64| {
        let prediction = if prediction.abs() < 100.0 * f64::EPSILON {
            0.0
        } else {
            prediction
        };
        let se = variance.max(0.0).sqrt();
        RandomEffect {
            level,
            intrcpt: prediction,
            se,
            pi_lower: prediction - crit * se,
            pi_upper: prediction + crit * se,
        }
    };
    let keys = |name: &str| -> Vec<Key> { grouping_keys(p, name) };
    let structured_terms: Vec<(String, String, String)> = options
        .terms
        .iter()
        .filter_map(|t| match Term::parse(t) {
            Ok(Term::Structured { inner, outer }) => {
                Some((format!("{inner} | {outer}"), inner, outer))
            }
            _ => None,
        })
        .collect();
    let mut components = Vec::new();
    let (mut start, mut nth_sigma, mut nth_structured) = (0, 0, 0);
    for c in &m.problem.components {
        let n = c.n_params();
        match c {
            Component::Sigma { corr: Some(_), .. } => {
                return Err(MultilevelError::KnownMatrix {
                    what: format!("the BLUPs of '{}'", p.sigma_names[nth_sigma]),
                    problem: "the BLUPs (`blup`; metafor's ranef) of a term with a known correlation matrix (`corr`) are not available yet; leave out `blup`".into(),
                });
            }
            Component::Structured {
                design: Some(_), ..
            } => {
                return Err(MultilevelError::BadTerm {
                    term: structured_terms
                        .get(nth_structured)
                        .map_or_else(String::new, |t| t.0.clone()),
                    problem: "the BLUPs (`blup`; metafor's ranef) of random slopes (the structure GEN) are not available yet; leave out `blup`".into(),
                });
            }
            Component::Sigma { group, fixed, .. } => {
                let sigma2 = if *fixed { 0.0 } else { eta[start].exp() };
                let name = &p.sigma_names[nth_sigma];
                let path: Vec<Vec<Key>> = name.split('/').map(keys).collect();
                let n_units = group.iter().map(|&g| g as usize + 1).max().unwrap_or(0);
                let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_units];
                for (i, &g) in group.iter().enumerate() {
                    members[g as usize].push(i);
                }
                let mut units: Vec<(Vec<Key>, RandomEffect)> = members
                    .iter()
                    .filter(|rows| !rows.is_empty())
                    .map(|rows| {
                        let key: Vec<Key> = path.iter().map(|v| v[rows[0]].clone()).collect();
                        let zwe: f64 = rows.iter().map(|&i| we[i]).sum();
                        let zpz: f64 = rows
                            .iter()
                            .flat_map(|&i| rows.iter().map(move |&l| (i, l)))
                            .map(|(i, l)| proj[(i, l)])
                            .sum();
                        let label = key.iter().map(|k| k.label.as_str()).collect::<Vec<_>>();
                        let prediction = sigma2 * zwe;
                        let variance = sigma2 - sigma2 * sigma2 * zpz;
                        (key.clone(), effect(label.join("/"), prediction, variance))
                    })
                    .collect();
                units.sort_by(|a, b| compare_keys(&a.0, &b.0));
                components.push((name.clone(), units.into_iter().map(|u| u.1).collect()));
                nth_sigma += 1;
            }
            Component::Structured {
                outer,
                inner,
                times,
                kind,
                design: None,
            } => {
                let g = kind.matrix(times, &eta[start..start + n]);
                let Some((name, inner_name, outer_name)) = structured_terms.get(nth_structured)
                else {
                    continue;
                };
                let outer_keys = keys(outer_name);
                let inner_labels = &p.structured[nth_structured].levels;
                let _ = inner_name;
                let full = DMatrix::from_fn(k, k, |i, l| {
                    if outer[i] == outer[l] {
                        g[(inner[i] as usize, inner[l] as usize)]
                    } else {
                        0.0
                    }
                });
                let prediction = &full * &we;
                let gpg = &full * &proj * &full;
                let mut seen = std::collections::HashSet::new();
                let mut rows: Vec<(Key, u32, RandomEffect)> = Vec::new();
                for i in 0..k {
                    if !seen.insert((outer[i], inner[i])) {
                        continue;
                    }
                    let label = format!(
                        "{} | {}",
                        inner_labels[inner[i] as usize], outer_keys[i].label
                    );
                    let variance = full[(i, i)] - gpg[(i, i)];
                    rows.push((
                        outer_keys[i].clone(),
                        inner[i],
                        effect(label, prediction[i], variance),
                    ));
                }
                rows.sort_by(|a, b| {
                    compare_keys(std::slice::from_ref(&a.0), std::slice::from_ref(&b.0))
                        .then(a.1.cmp(&b.1))
                });
                components.push((name.clone(), rows.into_iter().map(|r| r.2).collect()));
                nth_structured += 1;
            }
        }
        start += n;
    }
    Ok(Ranef { components })
}

/// The keys of grouping variable `name`, row by row: numbers sort
/// numerically when every value is one.
fn grouping_keys(p: &super::prepare::Prepared, name: &str) -> Vec<Key> {
    let Some((_, values)) = p.grouping.iter().find(|(v, _)| v == name) else {
        return vec![
            Key {
                label: String::new(),
                number: None,
            };
            p.y.len()
        ];
    };
    let numeric = values.iter().all(|v| matches!(v, Moderator::Number(_)));
    values
        .iter()
        .map(|v| Key {
            label: crate::multilevel::grouping_label(v).unwrap_or_default(),
            number: match v {
                Moderator::Number(x) if numeric => Some(*x),
                _ => None,
            },
        })
        .collect()
}
