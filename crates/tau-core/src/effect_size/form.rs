//! The forms effect data take in a record, recognised from the fields present.

use crate::effect_size::measure::Measure;
use crate::input::Record;

/// The form a record's effect data take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataForm {
    /// yi with vi or sei.
    Generic,
    /// estimate with a CI.
    EstimateCi,
    /// Means, SDs and sizes of two groups.
    Continuous,
    /// Events and sizes of two groups.
    Binary,
    /// A correlation and its sample size.
    Correlation,
    /// Events out of n in one group.
    Proportion,
    /// A two-sample t statistic.
    TStatistic,
    /// Means and SDs of one group before and after, its size and the
    /// pre-post correlation.
    PrePost,
    /// The mean, SD and size of one group.
    Mean,
    /// Events and person-time of two groups.
    IncidenceRates,
    /// Events and person-time of one group.
    IncidenceRate,
}

impl DataForm {
    /// Recognises the form from the fields present.
    pub fn of(record: &Record) -> Option<DataForm> {
        let any = |fields: &[Option<f64>]| fields.iter().any(Option::is_some);
        Some(if record.yi.is_some() {
            DataForm::Generic
        } else if any(&[record.estimate, record.ci_lower, record.ci_upper]) {
            DataForm::EstimateCi
        } else if any(&[record.m1, record.m2, record.sd1, record.sd2]) {
            DataForm::Continuous
        } else if any(&[record.time1, record.time2]) {
            DataForm::IncidenceRates
        } else if any(&[record.events1, record.events2]) {
            DataForm::Binary
        } else if any(&[record.m_pre, record.m_post, record.sd_pre, record.sd_post]) {
            // Before correlations: pre-post data carry r and n too.
            DataForm::PrePost
        } else if any(&[record.m, record.sd]) {
            DataForm::Mean
        } else if record.r.is_some() {
            DataForm::Correlation
        } else if record.time.is_some() {
            DataForm::IncidenceRate
        } else if record.events.is_some() {
            DataForm::Proportion
        } else if record.t.is_some() {
            DataForm::TStatistic
        } else {
            return None;
        })
    }

    /// A name for messages.
    pub fn name(self) -> &'static str {
        match self {
            DataForm::Generic => "generic (yi)",
            DataForm::EstimateCi => "estimate-and-CI",
            DataForm::Continuous => "two-group continuous",
            DataForm::Binary => "two-group binary",
            DataForm::Correlation => "correlation",
            DataForm::Proportion => "single-proportion",
            DataForm::TStatistic => "t-statistic",
            DataForm::PrePost => "pre-post",
            DataForm::Mean => "single-mean",
            DataForm::IncidenceRates => "two-group incidence-rate",
            DataForm::IncidenceRate => "single incidence-rate",
        }
    }

    /// The measures this form can produce.
    pub fn allowed(self) -> &'static str {
        match self {
            DataForm::Generic | DataForm::EstimateCi => "any measure",
            DataForm::Continuous => "SMD, MD, SMDH or ROM",
            DataForm::Binary => "OR, RR, RD or PETO",
            DataForm::Correlation => "ZCOR, COR or UCOR",
            DataForm::Proportion => "PR, PLO, PFT or PAS",
            DataForm::TStatistic => "SMD",
            DataForm::PrePost => "SMCR, SMCC or MC",
            DataForm::Mean => "MN or MNLN",
            DataForm::IncidenceRates => "IRR or IRD",
            DataForm::IncidenceRate => "IRLN",
        }
    }

    /// The measure a file of this form most naturally uses, when none is named.
    pub fn default_measure(self) -> Option<Measure> {
        match self {
            DataForm::Generic | DataForm::EstimateCi => Some(Measure::GEN),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_post_data_are_told_from_correlations_and_means() {
        let correlation = Record {
            r: Some(0.5),
            n: Some(20.0),
            ..Record::default()
        };
        assert_eq!(DataForm::of(&correlation), Some(DataForm::Correlation));
        let pre_post = Record {
            m_post: Some(3.0),
            ..correlation.clone()
        };
        assert_eq!(DataForm::of(&pre_post), Some(DataForm::PrePost));
        let mean = Record {
            sd: Some(1.0),
            n: Some(20.0),
            ..Record::default()
        };
        assert_eq!(DataForm::of(&mean), Some(DataForm::Mean));
    }
}
