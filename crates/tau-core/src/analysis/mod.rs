//! The analysis request: one [`Spec`] for every command and the browser page.
//!
//! The pipeline (ripgrep's flags → `HiArgs`, hyperfine's `Options` →
//! validate → run):
//!
//! 1. a front end fills a [`Spec`] (the CLI from its flags, the page from
//!    its controls, as JSON);
//! 2. [`Spec::validate`] checks every rule that involves more than one
//!    setting before anything is read or fitted, and returns every
//!    [`Refusal`] at once, each naming its [`Field`];
//! 3. [`run()`](run()) fits the model the resulting [`Plan`] names, with the
//!    inference it asks for, and returns one [`Analysis`];
//! 4. the views (text, JSON, CSV, paper tables, plots) render it.
//!
//! Adding a model option is a field of [`Spec`], its rules in
//! [`validate`](mod@validate), and its use in [`run`](mod@run).

mod bias;
pub mod diagnostics;
mod families;
pub mod refits;
pub mod report;
pub mod run;
pub mod spec;
pub mod validate;

pub use report::ReportVisitor;
pub use run::{Analysis, AnalysisError, multilevel_forest, run};
pub use spec::{Field, MethodChoice, Question, Spec, Tau2Ci, TestChoice};
pub use validate::{Model, Plan, Refusal, Refusals};
