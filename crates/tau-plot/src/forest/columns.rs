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
    /// Decimals of every cell of the column: the most any record needs (up to 2).
    decimals: usize,
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
            decimals: 0,
        }
    }

    /// The cell of one record (empty when it lacks the field).
    pub fn cell(&self, record: &Record) -> String {
        (self.value)(record)
            .map(|v| raw_number(v, self.decimals))
            .unwrap_or_default()
    }

    /// The sum over records, for counts; empty otherwise or when a value is missing.
    pub fn total<'a>(&self, records: impl Iterator<Item = &'a Record>) -> String {
        if !self.summable {
            return String::new();
        }
        let values: Option<Vec<f64>> = records.map(self.value).collect();
        values
            .map(|v| raw_number(v.iter().sum(), self.decimals))
            .unwrap_or_default()
    }
}

/// The decimals a raw value needs, up to two: 0 for integers, 1 for 5.2.
fn decimals_of(v: f64) -> usize {
    let text = format!("{v:.2}");
    let kept = text.trim_end_matches('0');
    kept.len() - kept.find('.').map_or(kept.len(), |dot| dot + 1)
}

/// A raw value with `decimals` decimals (one number of decimals per column,
/// as journals print tables), with a true minus sign.
fn raw_number(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}").replace('-', "\u{2212}")
}

/// The raw-data columns for the first raw-data form among the records
/// (records in other forms get empty cells).
pub(super) fn data_columns(data: &Dataset, arms: &[String; 2]) -> Vec<DataColumn> {
    let mut columns = columns_of(data, arms);
    for column in &mut columns {
        column.decimals = data
            .studies
            .iter()
            .filter_map(|s| s.raw.as_deref().and_then(column.value))
            .map(decimals_of)
            .max()
            .unwrap_or(0);
    }
    columns
}

fn columns_of(data: &Dataset, arms: &[String; 2]) -> Vec<DataColumn> {
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
        Some(DataForm::Correlation | DataForm::PrePost | DataForm::Mean) => {
            vec![DataColumn::new(None, "N", |r| r.n, true)]
        }
        Some(DataForm::Proportion) => vec![
            DataColumn::new(None, "Events", |r| r.events, true),
            DataColumn::new(None, "Total", |r| r.n, true),
        ],
        Some(DataForm::IncidenceRates) => vec![
            DataColumn::new(a, "Events", |r| r.events1, true),
            DataColumn::new(a, "Time", |r| r.time1, true),
            DataColumn::new(b, "Events", |r| r.events2, true),
            DataColumn::new(b, "Time", |r| r.time2, true),
        ],
        Some(DataForm::IncidenceRate) => vec![
            DataColumn::new(None, "Events", |r| r.events, true),
            DataColumn::new(None, "Time", |r| r.time, true),
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_numbers_share_their_column_decimals() {
        assert_eq!(decimals_of(123.0), 0);
        assert_eq!(decimals_of(5.25), 2);
        assert_eq!(decimals_of(5.2), 1);
        assert_eq!(decimals_of(5.004), 0);
        assert_eq!(raw_number(123.0, 1), "123.0");
        assert_eq!(raw_number(5.25, 2), "5.25");
        assert_eq!(raw_number(-0.5, 1), "−0.5");
    }
}
