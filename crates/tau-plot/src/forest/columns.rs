//! Raw-data columns: events, means, SDs and sizes per arm, when the records have them.

use tau_core::data::dataset::Dataset;
use tau_core::effect_size::DataForm;
use tau_core::input::Record;

/// One raw-data column.
pub(super) struct DataColumn {
    /// The arm (or none for one-group data), shown above the column.
    pub group: Option<String>,
    /// The column header.
    pub header: &'static str,
    value: fn(&Record) -> Option<f64>,
    /// Whether subtotals add up (counts do; means and SDs do not).
    summable: bool,
}

impl DataColumn {
    fn new(
        group: Option<&str>,
        header: &'static str,
        value: fn(&Record) -> Option<f64>,
        summable: bool,
    ) -> DataColumn {
        DataColumn {
            group: group.map(str::to_owned),
            header,
            value,
            summable,
        }
    }

    /// The cell of one record (empty when it lacks the field).
    pub fn cell(&self, record: &Record) -> String {
        (self.value)(record).map(raw_number).unwrap_or_default()
    }

    /// The sum over records, for counts; empty otherwise or when a value is missing.
    pub fn total<'a>(&self, records: impl Iterator<Item = &'a Record>) -> String {
        if !self.summable {
            return String::new();
        }
        let values: Option<Vec<f64>> = records.map(self.value).collect();
        values
            .map(|v| raw_number(v.iter().sum()))
            .unwrap_or_default()
    }
}

/// A raw value as written: integers without decimals, others with up to two.
fn raw_number(v: f64) -> String {
    let text = format!("{v:.2}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    text.replace('-', "\u{2212}")
}

/// The raw-data columns for the first raw-data form among the records
/// (records in other forms get empty cells).
pub(super) fn data_columns(data: &Dataset, arms: &[String; 2]) -> Vec<DataColumn> {
    let form = data
        .studies
        .iter()
        .filter_map(|s| s.raw.as_deref().and_then(DataForm::of))
        .find(|f| !matches!(f, DataForm::Generic | DataForm::EstimateCi));
    let (a, b) = (Some(arms[0].as_str()), Some(arms[1].as_str()));
    match form {
        Some(DataForm::Binary) => vec![
            DataColumn::new(a, "Events", |r| r.events1, true),
            DataColumn::new(a, "Total", |r| r.n1, true),
            DataColumn::new(b, "Events", |r| r.events2, true),
            DataColumn::new(b, "Total", |r| r.n2, true),
        ],
        Some(DataForm::Continuous) => vec![
            DataColumn::new(a, "Mean", |r| r.m1, false),
            DataColumn::new(a, "SD", |r| r.sd1, false),
            DataColumn::new(a, "Total", |r| r.n1, true),
            DataColumn::new(b, "Mean", |r| r.m2, false),
            DataColumn::new(b, "SD", |r| r.sd2, false),
            DataColumn::new(b, "Total", |r| r.n2, true),
        ],
        Some(DataForm::TStatistic) => vec![
            DataColumn::new(a, "Total", |r| r.n1, true),
            DataColumn::new(b, "Total", |r| r.n2, true),
        ],
        Some(DataForm::Correlation) => vec![DataColumn::new(None, "N", |r| r.n, true)],
        Some(DataForm::Proportion) => vec![
            DataColumn::new(None, "Events", |r| r.events, true),
            DataColumn::new(None, "Total", |r| r.n, true),
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_numbers_are_written_plainly() {
        assert_eq!(raw_number(123.0), "123");
        assert_eq!(raw_number(5.25), "5.25");
        assert_eq!(raw_number(5.2), "5.2");
        assert_eq!(raw_number(-0.5), "−0.5");
    }
}
