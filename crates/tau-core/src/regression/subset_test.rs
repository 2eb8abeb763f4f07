//! The Wald test of a subset of a meta-regression's coefficients (metafor
//! `anova(res, btt = ...)`): QM = β̂'ᵦ V⁻¹ β̂ᵦ over the coefficients chosen,
//! χ²(m) under z tests and QM/m ~ F(m, k − p) under Knapp-Hartung
//! ([`crate::model::fit::wald_test`]).
//!
//! The coefficients are chosen by name: a moderator stands for all of its
//! columns (every dummy of a categorical moderator), a coefficient name
//! (`intrcpt`, `alloc=random`) for its own column.

use serde::Serialize;

use super::RegressionResult;
use crate::fields::BTT;
use crate::model::fit::wald_test;

/// The test of the coefficients asked for. Field names are the JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubsetTest {
    /// The coefficients tested, in model order.
    pub coefficients: Vec<String>,
    /// QM: χ² under z, F (QM/m) under Knapp-Hartung.
    #[serde(rename = "QM")]
    pub qm: f64,
    /// Its (numerator) degrees of freedom m.
    #[serde(rename = "QM_df")]
    pub qm_df: usize,
    /// Denominator degrees of freedom of the F test (Knapp-Hartung only).
    #[serde(rename = "QM_df2", skip_serializing_if = "Option::is_none")]
    pub qm_df2: Option<f64>,
    /// Its p-value.
    #[serde(rename = "QM_p")]
    pub qm_p: f64,
}

/// Why the test could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SubsetTestError {
    /// No name was given.
    #[error("{BTT} names no coefficients: name moderators of the model, e.g. {BTT} year")]
    Empty,
    /// A name that is neither a moderator nor a coefficient of the model.
    #[error(
        "{BTT}: '{name}' is not in the model; name one of its moderators ({}) or coefficients ({})",
        .moderators.join(", "),
        .coefficients.join(", ")
    )]
    Unknown {
        /// The name given.
        name: String,
        /// The model's moderators.
        moderators: Vec<String>,
        /// The model's coefficients.
        coefficients: Vec<String>,
    },
    /// The chosen coefficients' covariance matrix cannot be inverted.
    #[error(
        "{BTT}: the variance-covariance matrix of {} is singular, so they cannot be tested together",
        .0.join(", ")
    )]
    Singular(Vec<String>),
}

impl crate::Kinded for SubsetTestError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            SubsetTestError::Singular(_) => crate::ErrorKind::Analysis,
            _ => crate::ErrorKind::Input,
        }
    }
}

/// Tests that the coefficients `names` stand for are all zero.
pub fn subset_test(r: &RegressionResult, names: &[String]) -> Result<SubsetTest, SubsetTestError> {
    if names.is_empty() {
        return Err(SubsetTestError::Empty);
    }
    let mut chosen = vec![false; r.coefficients.len()];
    for name in names {
        let name = name.trim();
        let exact = r.coefficients.iter().position(|c| c.name == name);
        let columns: Vec<usize> = match exact {
            Some(j) => vec![j],
            None if r.settings.moderators.iter().any(|m| m == name) => r
                .coefficients
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.name
                        .strip_prefix(name)
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('='))
                })
                .map(|(j, _)| j)
                .collect(),
            None => Vec::new(),
        };
        if columns.is_empty() {
            return Err(SubsetTestError::Unknown {
                name: name.to_owned(),
                moderators: r.settings.moderators.clone(),
                coefficients: r.coefficients.iter().map(|c| c.name.clone()).collect(),
            });
        }
        for j in columns {
            chosen[j] = true;
        }
    }
    let indices: Vec<usize> = (0..chosen.len()).filter(|&j| chosen[j]).collect();
    let coefficients: Vec<String> = indices
        .iter()
        .map(|&j| r.coefficients[j].name.clone())
        .collect();
    let beta: Vec<f64> = r.coefficients.iter().map(|c| c.estimate.value).collect();
    let test = wald_test(&beta, |a, b| r.vcov[a][b], &indices, r.df)
        .map_err(|_| SubsetTestError::Singular(coefficients.clone()))?;
    Ok(SubsetTest {
        coefficients,
        qm: test.statistic,
        qm_df: test.df1,
        qm_df2: test.df2,
        qm_p: test.p,
    })
}
