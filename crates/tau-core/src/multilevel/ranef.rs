//! Best linear unbiased predictions of the random effects of a nested
//! multilevel model: metafor's `ranef()` of an `rma.mv` fit with
//! `random = ~ 1 | A/B/...`.
//!
//! For the level l with variance σ²ₗ and indicator matrix Zₗ (one column per
//! unit), with W = M⁻¹, e = y − Xβ̂ and P = W − WX(X'WX)⁻¹X'W
//! (Raudenbush & Bryk 2002; metafor's `ranef.rma.mv`):
//!
//! * the prediction ûₗ = σ²ₗ Zₗ'We;
//! * its variance Var(ûₗ − uₗ) = σ²ₗI − σ⁴ₗ Zₗ'PZₗ, whose diagonal gives the
//!   standard errors;
//! * the prediction interval ûₗ ± crit·se, crit the normal quantile, or
//!   under `test = "t"` that of t with k − p df.
//!
//! Both are computed block by block (`super::marginal`): a unit lies in one
//! outermost cluster, so zᵤ'Wzᵤ and zᵤ'WX are sums over its block. The units
//! are listed as metafor's `s.levels`: sorted by each grouping variable in
//! turn, numbers numerically and text byte-wise (R's `factor()` in the C
//! locale), and named by their labels joined with "/".

use std::cmp::Ordering;

use nalgebra::DVector;
use serde::Serialize;
use serde::ser::SerializeMap;

use super::marginal::Marginal;
use super::{MultilevelError, MultilevelOptions, MultilevelResult, Prepared, Test};
use crate::input::Moderator;
use crate::numerics::distribution::{normal_upper, t_upper};

/// The BLUP of one unit's random effect. Field names are the JSON contract
/// (metafor's columns `intrcpt`, `se`, `pi.lb`, `pi.ub`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RandomEffect {
    /// The unit: its labels at each level down to this one, joined by "/".
    pub level: String,
    /// The predicted random effect.
    pub intrcpt: f64,
    /// Its standard error.
    pub se: f64,
    /// Lower prediction limit.
    pub pi_lower: f64,
    /// Upper prediction limit.
    pub pi_upper: f64,
}

/// The BLUPs of every level, keyed in JSON by the level's name (metafor's
/// `s.names`: "study", "study/es_id").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ranef {
    /// Each level's name and its units' BLUPs, outermost level first.
    pub components: Vec<(String, Vec<RandomEffect>)>,
}

impl Serialize for Ranef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.components.len()))?;
        for (name, effects) in &self.components {
            map.serialize_entry(name, effects)?;
        }
        map.end()
    }
}

/// The BLUPs of the fitted nested model `result` of `options` on `dataset`.
pub fn ranef(
    dataset: &crate::Dataset,
    options: &MultilevelOptions,
    result: &MultilevelResult,
) -> Result<Ranef, MultilevelError> {
    let prepared = Prepared::new(dataset, options)?;
    let marginal = Marginal::new(&prepared, &result.sigma2, options.rho.unwrap_or(0.0))?;
    let (k, p) = prepared.x.shape();
    let alpha = (1.0 - options.level / 100.0) / 2.0;
    let crit = match options.test {
        Test::Z => normal_upper(alpha),
        Test::T => t_upper(alpha, (k - p) as f64),
    };
    let keys = unit_keys(&prepared, &options.random);
    let structure = &prepared.structure;
    let mut components = Vec::with_capacity(structure.levels());
    for (level, name) in structure.names.iter().enumerate() {
        let sigma2 = result.sigma2[level];
        let mut units: Vec<(Vec<Key>, RandomEffect)> = Vec::new();
        for (c, block) in structure.blocks.iter().enumerate() {
            let (w, x, e) = (&marginal.w[c], &marginal.x[c], &marginal.e[c]);
            for unit in 0..block.units[level] {
                let members: Vec<usize> = (0..block.len)
                    .filter(|&a| structure.local[level][block.start + a] == unit)
                    .collect();
                let Some(&first) = members.first() else {
                    continue;
                };
                // zᵤ'W (a row), then zᵤ'We, zᵤ'Wzᵤ and zᵤ'WX.
                let zw: DVector<f64> = members
                    .iter()
                    .map(|&a| w.row(a).transpose())
                    .fold(DVector::zeros(block.len), |acc, row| acc + row);
                let zwe = zw.dot(e);
                let zwz: f64 = members.iter().map(|&a| zw[a]).sum();
                let zwx = x.transpose() * &zw;
                let quadratic = zwz - (zwx.transpose() * &marginal.vb * &zwx)[(0, 0)];
                let mut prediction = sigma2 * zwe;
                if prediction.abs() < 100.0 * f64::EPSILON {
                    prediction = 0.0;
                }
                let se = (sigma2 - sigma2 * sigma2 * quadratic).max(0.0).sqrt();
                let row = structure.order[block.start + first];
                let key = keys[row][..=level].to_vec();
                units.push((
                    key.clone(),
                    RandomEffect {
                        level: key
                            .iter()
                            .map(|k| k.label.as_str())
                            .collect::<Vec<_>>()
                            .join("/"),
                        intrcpt: prediction,
                        se,
                        pi_lower: prediction - crit * se,
                        pi_upper: prediction + crit * se,
                    },
                ));
            }
        }
        units.sort_by(|a, b| compare_keys(&a.0, &b.0));
        components.push((name.clone(), units.into_iter().map(|(_, u)| u).collect()));
    }
    Ok(Ranef { components })
}

/// One grouping value: its label, and its number when every value of the
/// variable is a number (so that levels sort as R's `factor()` does).
#[derive(Debug, Clone)]
pub(super) struct Key {
    pub(super) label: String,
    pub(super) number: Option<f64>,
}

/// Orders units as R's `factor()` levels, variable by variable.
pub(super) fn compare_keys(a: &[Key], b: &[Key]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = match (x.number, y.number) {
            (Some(u), Some(v)) => u.total_cmp(&v),
            _ => x.label.as_bytes().cmp(y.label.as_bytes()),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// `keys[r][l]`: the grouping value of model row r at level l.
fn unit_keys(prepared: &Prepared<'_>, names: &[String]) -> Vec<Vec<Key>> {
    let value = |r: usize, name: &String| {
        prepared.data.studies[prepared.rows[r]]
            .moderators
            .get(name)
            .cloned()
            .unwrap_or(Moderator::Missing)
    };
    let numeric: Vec<bool> = names
        .iter()
        .map(|name| {
            (0..prepared.rows.len()).all(|r| matches!(value(r, name), Moderator::Number(_)))
        })
        .collect();
    (0..prepared.rows.len())
        .map(|r| {
            names
                .iter()
                .zip(&numeric)
                .map(|(name, &numeric)| {
                    let v = value(r, name);
                    Key {
                        label: super::grouping_label(&v).unwrap_or_default(),
                        number: match v {
                            Moderator::Number(x) if numeric => Some(x),
                            _ => None,
                        },
                    }
                })
                .collect()
        })
        .collect()
}
