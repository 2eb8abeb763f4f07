//! The Baujat plot's coordinates (Baujat et al. 2002, "A graphical method
//! for exploring heterogeneity in meta-analyses", Statistics in Medicine 21:
//! 2641–2652; metafor `baujat.rma`).
//!
//! For study i, with ŷᵢ = xᵢ'β̂ from the model on all studies and ŷᵢ₍ᵢ₎,
//! V₍ᵢ₎ from the model refitted without it:
//!
//! * x: its contribution to the heterogeneity statistic,
//!   (yᵢ − ŷᵢ)² / (τ̂² + vᵢ) (for the common-effect model, τ̂² = 0 and these sum to Q);
//! * y: its influence on the pooled result, (ŷᵢ₍ᵢ₎ − ŷᵢ)² / xᵢ'V₍ᵢ₎xᵢ.

use nalgebra::DMatrix;
use serde::Serialize;

use super::influence::{refit_without, row_dot, row_quadratic};
use super::{SensitivityError, each_study};
use crate::data::dataset::Dataset;
use crate::model::{FitOptions, fit, intercept_design};
use crate::settings::Settings;

/// One study's point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaujatPoint {
    /// Study label.
    pub study: String,
    /// Contribution to heterogeneity (squared Pearson residual).
    pub x: f64,
    /// Influence on the pooled result (NaN when the refit failed).
    pub y: f64,
}

/// The points of a Baujat plot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baujat {
    /// Title of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// One point per study.
    pub studies: Vec<BaujatPoint>,
    /// How it was computed.
    pub settings: Settings,
}

/// Baujat coordinates for the intercept-only model of `dataset`.
pub fn baujat(dataset: &Dataset, options: &FitOptions) -> Result<Baujat, SensitivityError> {
    baujat_regression(dataset, &intercept_design(dataset.studies.len()), options)
}

/// Baujat coordinates for the model with design `x`.
pub fn baujat_regression(
    dataset: &Dataset,
    x: &DMatrix<f64>,
    options: &FitOptions,
) -> Result<Baujat, SensitivityError> {
    let (yi, vi) = (dataset.yi(), dataset.vi());
    let k = yi.len();
    if k < 2 {
        return Err(SensitivityError::TooFewStudies {
            what: "a Baujat plot",
            needed: 2,
            k,
        });
    }
    let full = fit(&yi, &vi, x, options)?;
    let studies = each_study(k, |i| {
        let pred = row_dot(x, i, &full.beta);
        let y = match refit_without(&yi, &vi, x, i, options) {
            Ok(d) => (row_dot(x, i, &d.beta) - pred).powi(2) / row_quadratic(x, i, &d.vcov),
            Err(_) => f64::NAN,
        };
        BaujatPoint {
            study: dataset.studies[i].label().to_owned(),
            x: (yi[i] - pred).powi(2) / (full.tau2 + vi[i]),
            y,
        }
    });
    Ok(Baujat {
        title: dataset.title.clone(),
        studies,
        settings: Settings::new(options, dataset.measure, full.convergence),
    })
}
