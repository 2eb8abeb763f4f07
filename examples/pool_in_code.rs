//! Pools a data set built in code, with no file: the library without the CLI.
//!
//! Run with `cargo run --example pool_in_code`.

use tau_core::{Dataset, FitOptions, Measure, Method, pool};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Five studies (labelled 1 to 5) given as outcomes (yi) with sampling variances (vi).
    let yi = [0.12, 0.45, 0.31, -0.05, 0.60];
    let vi = [0.04, 0.09, 0.02, 0.06, 0.10];
    let dataset = Dataset::from_effects(Measure::SMD, &yi, &vi);

    let options = FitOptions {
        method: Method::REML,
        ..FitOptions::default()
    };
    let result = pool(&dataset, &options)?;
    println!(
        "estimate {:.4} [{:.4}, {:.4}], tau^2 {:.4}, I^2 {:.1}%",
        result.estimate.value,
        result.estimate.ci_lower,
        result.estimate.ci_upper,
        result.tau2,
        result.i2
    );
    Ok(())
}
