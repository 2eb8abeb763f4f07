//! # tau: meta-analysis checked against metafor
//!
//! The pipeline, one module per stage:
//!
//! * [`input`]: study records from JSON or CSV;
//! * [`effect_size`] and [`dataset`]: records to effect sizes (metafor `escalc`);
//! * [`model`]: common- and random-effects models, τ² estimators, heterogeneity (metafor `rma`);
//! * [`pool`](mod@pool): the pooled summary with its intervals;
//! * [`report`]: text, JSON and CSV views of the results.
//!
//! The library prints nothing and touches no files; the `tau` binary does that.

#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod dataset;
pub mod effect_size;
pub mod input;
pub mod measure;
pub mod model;
pub mod pool;
pub mod report;

pub use dataset::{Dataset, LoadError, Study};
pub use measure::Measure;
pub use model::{FitOptions, Method, Test};
pub use pool::{PoolResult, pool};
