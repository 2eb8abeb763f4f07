//! Multilevel meta-analysis (metafor's `rma.mv` with nested random effects).

pub mod likelihood;
pub mod structure;
