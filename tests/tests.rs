//! The integration tests, one binary: each module is one area of tau,
//! [`util`] holds what they share.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;
mod views_agree;

mod adversarial;
mod bad_input;
mod bayes;
mod bias_dependent;
mod cli_bias;
mod cli_moderators;
mod cli_multilevel;
mod cli_pipeline;
mod clubsandwich;
mod core_messages;
mod edge_cases;
mod errors_doc;
mod files_and_sizes;
mod fuzz_regressions;
mod metafor_bias;
mod metafor_estimators;
mod metafor_glmm;
mod metafor_influence_mods;
mod metafor_location_scale;
mod metafor_measures_more;
mod metafor_measures_prepost;
mod metafor_model_comparison;
mod metafor_moderators;
mod metafor_multilevel;
mod metafor_pool;
mod metafor_predict;
mod metafor_robust_multilevel;
mod metafor_selection;
mod metafor_toolkit;
mod metafor_weights;
mod module_cycles;
mod paper_output;
mod plot_cli;
mod plot_forest;
mod plot_funnel;
mod plot_snapshot;
mod properties;
mod published;
mod readme_walkthrough;
mod real_data;
mod report_snapshot;
mod selection_robust;
mod simulate;
mod spreadsheets;
mod trust;
mod trusted_inputs;
