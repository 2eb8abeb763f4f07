//! # tau-core: meta-analysis checked against metafor
//!
//! The pipeline, one module per stage:
//!
//! * [`analysis`]: the analysis request ([`analysis::Spec`] → validate → run)
//!   that every front end builds;
//! * [`input`]: study records from JSON or CSV bytes;
//! * [`effect_size`] and [`data`]: records to effect sizes (metafor `escalc`),
//!   the data set and its moderators;
//! * [`model`]: common- and random-effects models, τ² estimators, heterogeneity (metafor `rma`);
//! * [`pool`](mod@pool): the pooled summary with its intervals;
//! * [`subgroup`](mod@subgroup) and [`regression`]: moderator analysis (subgroups,
//!   meta-regression, permutation tests);
//! * [`bias`](mod@bias): small-study effects and publication bias (Egger, Begg, trim-and-fill, fail-safe N, PET-PEESE, selection models);
//! * [`multilevel`]: multilevel models for dependent effect sizes (metafor
//!   `rma.mv` with nested random effects);
//! * [`robust`]: cluster-robust inference (CR2 with Satterthwaite and HTZ
//!   tests, as clubSandwich) on rma.uni- and rma.mv-type working models, and
//!   the sensitivity of a CHE model to its assumed ρ;
//! * [`sensitivity`]: leave-one-out, cumulative and influence analyses;
//! * [`simulate`](mod@simulate): Monte Carlo comparison of estimators and tests;
//! * [`report`]: text, JSON and CSV views of the results;
//! * [`settings`]: how a result was computed, and tau's version;
//! * [`numerics`]: the ground floor, ports of R's numerical routines
//!   (distributions, `uniroot`, QUADPACK, `optim`, ₂F₁) that import nothing
//!   of tau; [`text`]: label lists that messages share; [`fields`]: the
//!   settings that messages name, for each front end to name in its words.
//!
//! Conventions shared by every analysis:
//!
//! * confidence levels are in percent (95), as [`FitOptions::level`], in every
//!   function that takes one; [`bias::fail_safe`] alone takes a significance
//!   level `alpha` (0.05), as metafor's `fsn`;
//! * every error type implements [`Kinded`]: [`ErrorKind::Input`] or
//!   [`ErrorKind::Analysis`];
//! * results carry their [`Warning`]s, whose `Display` is the text to show;
//! * no function needs a progress callback ([`regress_with_progress`] and
//!   [`simulate_with_progress`] take one).
//!
//! The core prints nothing and touches no files: it reads from byte slices and
//! writes to [`std::io::Write`]. Figures live in the `tau-plot` crate, and the
//! `tau` binary does the I/O. With the default feature `parallel`, batch
//! analyses use rayon; without it the core builds for `wasm32-unknown-unknown`.

#![warn(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod analysis;
pub mod bayes;
pub mod bias;
pub mod data;
pub mod effect_size;
pub mod error_kind;
pub mod estimate;
pub mod fields;
pub mod glmm;
pub mod input;
pub mod location_scale;
pub mod model;
pub mod multilevel;
pub mod numerics;
mod par;
pub mod pool;
pub mod pool_tables;
pub mod regression;
pub mod report;
pub mod robust;
pub mod sensitivity;
pub mod settings;
pub mod simulate;
pub mod subgroup;
pub mod text;
pub mod warning;

pub use bias::{BiasResult, bias};
pub use data::dataset::{Dataset, LoadError, Study};
pub use effect_size::measure::Measure;
pub use error_kind::{ErrorKind, Kinded};
pub use estimate::Estimate;
pub use model::{FitOptions, Method, Test};
pub use pool::{PoolResult, pool, pool_with};
pub use pool_tables::{TablesMethod, TablesResult, pool_tables};
pub use regression::{RegressionResult, regress, regress_with_progress};
pub use sensitivity::{
    baujat::baujat, cumulative::cumulative, influence::influence, leave_one_out::leave_one_out,
};
pub use settings::{Settings, VERSION};
pub use simulate::{SimulationResult, simulate, simulate_with_progress};
pub use subgroup::{SubgroupResult, subgroup};
pub use warning::Warning;
