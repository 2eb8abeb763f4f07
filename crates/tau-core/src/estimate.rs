//! The row every result shares: an estimate with its standard error, test and
//! confidence interval, in metafor's print order (`estimate, se, zval/tval,
//! pval, ci.lb, ci.ub` of `print.rma`).
//!
//! Results embed it with `#[serde(flatten)]`, so its keys sit beside the
//! result's own: `estimate, se, statistic, p, ci_lower, ci_upper`.

use serde::Serialize;

use crate::numerics::distribution::{normal_two_sided_p, t_two_sided_p};

/// An estimate, its Wald test and its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// The estimate θ̂ (key `estimate`).
    #[serde(rename = "estimate")]
    pub value: f64,
    /// Its standard error.
    pub se: f64,
    /// z, or t under Knapp-Hartung: θ̂ / SE.
    pub statistic: f64,
    /// Two-sided p-value of the statistic.
    pub p: f64,
    /// Lower confidence limit θ̂ − c·SE.
    pub ci_lower: f64,
    /// Upper confidence limit θ̂ + c·SE.
    pub ci_upper: f64,
}

impl Estimate {
    /// The six numbers in JSON order, as full-precision CSV cells.
    pub fn csv_cells(&self) -> [String; 6] {
        [
            self.value,
            self.se,
            self.statistic,
            self.p,
            self.ci_lower,
            self.ci_upper,
        ]
        .map(|v| v.to_string())
    }

    /// The Wald row of `value` with standard error `se`: statistic θ̂/SE, its
    /// two-sided p-value from the normal distribution (`df: None`) or from
    /// t(df), and the interval θ̂ ± `crit`·SE, with `crit` the matching
    /// quantile (metafor `rma`: `zval`, `pval`, `ci.lb`, `ci.ub`).
    pub fn wald(value: f64, se: f64, crit: f64, df: Option<f64>) -> Estimate {
        let statistic = value / se;
        Estimate {
            value,
            se,
            statistic,
            p: match df {
                None => normal_two_sided_p(statistic),
                Some(df) => t_two_sided_p(statistic, df),
            },
            ci_lower: value - crit * se,
            ci_upper: value + crit * se,
        }
    }

    /// A row of NaNs (`null` in JSON), for a fit that failed.
    pub const NAN: Estimate = Estimate {
        value: f64::NAN,
        se: f64::NAN,
        statistic: f64::NAN,
        p: f64::NAN,
        ci_lower: f64::NAN,
        ci_upper: f64::NAN,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wald_row_of_a_z_test() {
        // 1.96 / 1 with the 97.5% normal quantile: p = 0.0499958 (R: 2 * pnorm(-1.96)).
        let e = Estimate::wald(1.96, 1.0, 1.959963984540054, None);
        assert_eq!(e.statistic, 1.96);
        assert!((e.p / 0.049995790296440856 - 1.0).abs() < 1e-6, "{e:?}");
        assert!((e.ci_lower - 3.6015459946e-5).abs() < 1e-12);
    }

    #[test]
    fn keys_in_metafors_print_order() {
        let json = serde_json::to_string(&Estimate::wald(1.0, 0.5, 2.0, Some(3.0))).unwrap();
        let keys: Vec<&str> = json.split('"').skip(1).step_by(2).collect();
        assert_eq!(
            keys,
            ["estimate", "se", "statistic", "p", "ci_lower", "ci_upper"]
        );
    }
}
