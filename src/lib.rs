//! # tau: meta-analysis checked against metafor
//!
//! The pipeline, one module per stage:
//!
//! * [`input`]: study records from JSON or CSV;
//! * [`effect_size`] and [`dataset`]: records to effect sizes (metafor `escalc`);
//! * [`model`]: common- and random-effects models, τ² estimators, heterogeneity (metafor `rma`);
//! * [`pool`](mod@pool): the pooled summary with its intervals;
//! * [`moderator`], [`subgroup`], [`regression`] and [`permutation`]: moderator
//!   analysis (subgroups, meta-regression, permutation tests);
//! * [`bias`]: small-study effects and publication bias (Egger, Begg, trim-and-fill, fail-safe N, PET-PEESE);
//! * [`sensitivity`]: leave-one-out, cumulative and influence analyses;
//! * [`report`]: text, JSON and CSV views of the results;
//! * [`plot`]: forest, funnel, bubble, leave-one-out and Baujat plots (SVG, PNG, PDF).
//!
//! The library prints nothing and touches no files; the `tau` binary does that.

#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod bias;
pub mod dataset;
pub mod effect_size;
pub mod input;
pub mod measure;
pub mod model;
pub mod moderator;
pub mod permutation;
pub mod plot;
pub mod pool;
pub mod regression;
pub mod report;
pub mod sensitivity;
pub mod simulate;
pub mod subgroup;

pub use dataset::{Dataset, LoadError, Study};
pub use measure::Measure;
pub use model::{FitOptions, Method, Test};
pub use pool::{PoolResult, pool};
