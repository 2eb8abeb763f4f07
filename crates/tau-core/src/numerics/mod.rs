//! The ground floor: ports of the numerical routines of R (and the libraries
//! R calls) that metafor's numbers rest on, step for step where the path
//! matters, so that tau reproduces metafor's answers rather than merely
//! approaching them.
//!
//! * [`distribution`]: quantiles and tail probabilities of the normal, t, χ²
//!   and F distributions (`qnorm`, `pt`, `pchisq`, `pf` …);
//! * [`zeroin`]: Brent's root finder as `uniroot` runs it;
//! * [`integrate`]: QUADPACK's `dqagi`, as `integrate(f, -Inf, Inf)`;
//! * [`optim`]: `optim(method = "BFGS")` (Nash's `vmmin`);
//! * [`hessian`]: `numDeriv::hessian` with Richardson extrapolation;
//! * [`hypergeometric`]: Gauss's ₂F₁, as `gsl::hyperg_2F1`;
//! * [`format`](mod@format) and [`fixed`]: numbers as R prints them; [`number`]: numbers
//!   as messages quote them.
//!
//! Nothing here imports any other module of tau-core, and every other module
//! may import from here: the core's modules form no cycle above this floor
//! (`tests/module_cycles.rs` checks it).

pub mod distribution;
pub mod fixed;
pub mod format;
pub mod hessian;
pub mod hypergeometric;
pub mod integrate;
pub mod number;
pub mod optim;
pub mod zeroin;
