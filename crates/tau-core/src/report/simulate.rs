//! Text and CSV views of a simulation study (JSON is its serde serialisation, [`super::json`]).

use super::{fmt_num, table};
use crate::numerics::fixed::push_fixed;
use crate::simulate::{Cell, SimulationResult};

/// A number in a column of the table: `digits` decimals, as the rest of the
/// column (a bias of 3e-7 is `0.0000`, not `3.0000e-07` beside `0.0123`);
/// e-notation only from 10⁶ on, where fixed point would run long.
fn column_num(value: f64, digits: usize) -> String {
    if value.is_finite() && value.abs() < 1e6 {
        let mut out = String::new();
        push_fixed(&mut out, value, digits);
        out
    } else {
        fmt_num(value, digits)
    }
}

/// "0.0123 (0.0004)": a value with its Monte Carlo SE.
fn with_mcse(value: f64, mcse: f64) -> String {
    format!("{} ({})", column_num(value, 4), column_num(mcse, 4))
}

/// A proportion as a percentage with its Monte Carlo SE.
fn percent(value: f64, mcse: f64) -> String {
    format!(
        "{} ({})",
        column_num(100.0 * value, 1),
        column_num(100.0 * mcse, 1)
    )
}

/// The text report of a simulation study.
pub fn text(result: &SimulationResult) -> String {
    let s = &result.settings;
    let sc = &s.scenario;
    let mut out = format!(
        "Simulation of {} meta-analyses (tau {}, seed {})\n\n",
        s.reps, result.version, s.seed
    );
    out.push_str(&format!(
        "True model: mu = {}, tau^2 = {}, k = {} studies of a standardised mean difference\n",
        sc.mu, sc.tau2, sc.k
    ));
    out.push_str(&format!(
        "Per-arm sizes n1, n2 ~ uniform integers in [{}, {}]; vi = 1/n1 + 1/n2 + mu^2/(2(n1 + n2)), known\n",
        sc.n_min, sc.n_max
    ));
    out.push_str(
        "yi ~ N(mu, tau^2 + vi); the PI is judged against a new study's true effect ~ N(mu, tau^2)\n",
    );
    out.push_str(&format!(
        "Intervals at {}%; Monte Carlo standard errors in parentheses; coverage in percent\n\n",
        fmt_num(s.level, 1)
    ));
    let rows: Vec<Vec<String>> = result.results.iter().map(row).collect();
    out.push_str(&table(
        &[
            "method",
            "test",
            "fits",
            "failed",
            "bias(mu)",
            "RMSE(mu)",
            "bias(tau^2)",
            "RMSE(tau^2)",
            "CI cover",
            "CI width",
            "PI cover",
            "PI width",
        ],
        &rows,
    ));
    for cell in &result.results {
        if let Some(failure) = &cell.performance.first_failure {
            out.push_str(&format!(
                "\n{} {}: {} of {} fits failed and are left out of every measure above; the first, replicate {}: {}\n",
                cell.method.name(),
                cell.test.name(),
                cell.performance.failed,
                cell.performance.failed + cell.performance.fits,
                failure.replicate,
                failure.message
            ));
        }
    }
    out
}

fn row(cell: &Cell) -> Vec<String> {
    let p = &cell.performance;
    vec![
        cell.method.name().into(),
        cell.test.name().into(),
        p.fits.to_string(),
        p.failed.to_string(),
        with_mcse(p.estimate.bias, p.estimate.bias_mcse),
        column_num(p.estimate.rmse, 4),
        with_mcse(p.tau2.bias, p.tau2.bias_mcse),
        column_num(p.tau2.rmse, 4),
        percent(p.ci_coverage.value, p.ci_coverage.mcse),
        column_num(p.ci_mean_width, 4),
        percent(p.pi_coverage.value, p.pi_coverage.mcse),
        column_num(p.pi_mean_width, 4),
    ]
}

/// One CSV row per method × test, full precision.
pub fn csv(result: &SimulationResult) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "method",
        "test",
        "fits",
        "failed",
        "estimate_bias",
        "estimate_bias_mcse",
        "estimate_rmse",
        "tau2_bias",
        "tau2_bias_mcse",
        "tau2_rmse",
        "ci_coverage",
        "ci_coverage_mcse",
        "ci_mean_width",
        "pi_coverage",
        "pi_coverage_mcse",
        "pi_mean_width",
    ])?;
    for cell in &result.results {
        let p = &cell.performance;
        let mut record = vec![
            cell.method.name().to_owned(),
            cell.test.name().to_owned(),
            p.fits.to_string(),
            p.failed.to_string(),
        ];
        record.extend(
            [
                p.estimate.bias,
                p.estimate.bias_mcse,
                p.estimate.rmse,
                p.tau2.bias,
                p.tau2.bias_mcse,
                p.tau2.rmse,
                p.ci_coverage.value,
                p.ci_coverage.mcse,
                p.ci_mean_width,
                p.pi_coverage.value,
                p.pi_coverage.mcse,
                p.pi_mean_width,
            ]
            .map(|v| v.to_string()),
        );
        writer.write_record(&record)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_keep_their_decimals() {
        assert_eq!(with_mcse(3e-7, 0.0123), "0.0000 (0.0123)");
        assert_eq!(percent(0.95, 1e-9), "95.0 (0.0)");
        assert_eq!(column_num(2.5e6, 4), "2.5000e+06");
    }
}
