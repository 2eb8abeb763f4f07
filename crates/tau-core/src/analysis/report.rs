//! The report of an analysis: the one place that says which report object
//! each kind of result has. The CLI writes it in every `format`; the page
//! takes its paper tables; both call [`Analysis::visit_report`].

use serde::{Serialize, Serializer};

use crate::data::dataset::Dataset;
use crate::report::csv::CsvView;
use crate::report::paper::{PaperTable, PaperView};
use crate::report::text::TextView;
use crate::report::{PoolReport, Report, RobustReport};

use super::run::Analysis;

/// What is done with the report of an analysis (written in a format,
/// turned into paper tables): [`Analysis::visit_report`] hands it over.
pub trait ReportVisitor {
    /// What the visit gives.
    type Output;
    /// Does the work on `report`, which has every view and a JSON form.
    fn visit<R: Report + Serialize + ?Sized>(self, report: &R) -> Self::Output;
}

/// The report of a robust analysis: the views of [`RobustReport`], and as
/// JSON the robust result with the robust-consistent numbers in place
/// ([`Analysis::to_json`], built only when JSON is written).
struct RobustView<'a, M: ?Sized> {
    report: RobustReport<'a, M>,
    analysis: &'a Analysis,
    data: &'a Dataset,
}

impl<M: ?Sized> Serialize for RobustView<'_, M> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.analysis.to_json(self.data).serialize(serializer)
    }
}

impl<M: TextView + ?Sized> TextView for RobustView<'_, M> {
    fn text(&self) -> String {
        self.report.text()
    }
}

impl<M: ?Sized> CsvView for RobustView<'_, M> {
    fn write_csv(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.report.write_csv(out)
    }
}

impl<M: PaperView + ?Sized> PaperView for RobustView<'_, M> {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        self.report.paper_table(digits)
    }
}

impl Analysis {
    /// Hands the report of this analysis (of `data`) to `visitor`. Under
    /// robust inference the model block shows the numbers the robust
    /// inference gives (the `shown` result). `None` for a result that has
    /// no report of its own (a robust fit of a model without one).
    pub fn visit_report<V: ReportVisitor>(&self, data: &Dataset, visitor: V) -> Option<V::Output> {
        Some(match self {
            Analysis::Pool(result) => visitor.visit(&PoolReport { result, data }),
            Analysis::Tables(r) => visitor.visit(r),
            Analysis::Regression(r) => visitor.visit(r),
            Analysis::Subgroup(r) => visitor.visit(r),
            Analysis::Multilevel(r) => visitor.visit(r),
            Analysis::MultilevelSubgroups(r) => visitor.visit(r),
            Analysis::RhoSensitivity(r) => visitor.visit(r),
            Analysis::Bayes(r) => visitor.visit(r),
            Analysis::LocationScale(r) => visitor.visit(r),
            Analysis::Glmm(r) => visitor.visit(r),
            Analysis::GlmmRegression(r) => visitor.visit(r),
            Analysis::Bias(r) => visitor.visit(r.as_ref()),
            Analysis::Selection(r) => visitor.visit(r.as_ref()),
            Analysis::Robust {
                model,
                shown,
                robust,
                tested,
            } => {
                let view = |report| RobustView {
                    report,
                    analysis: self,
                    data,
                };
                match shown.as_deref().unwrap_or(model) {
                    Analysis::Pool(result) => visitor.visit(&view(RobustReport {
                        model: &PoolReport { result, data } as &dyn RobustModel,
                        robust,
                        tested,
                    })),
                    Analysis::Regression(m) => visitor.visit(&view(robust_of(m, robust, tested))),
                    Analysis::Subgroup(m) => visitor.visit(&view(robust_of(m, robust, tested))),
                    Analysis::Multilevel(m) => visitor.visit(&view(robust_of(m, robust, tested))),
                    Analysis::MultilevelSubgroups(m) => {
                        visitor.visit(&view(robust_of(m, robust, tested)))
                    }
                    _ => return None,
                }
            }
        })
    }
}

/// The model block of a robust report: its text and paper table.
trait RobustModel: TextView + PaperView {}

impl<T: TextView + PaperView> RobustModel for T {}

fn robust_of<'a>(
    model: &'a dyn RobustModel,
    robust: &'a crate::robust::RobustResult,
    tested: &'a str,
) -> RobustReport<'a, dyn RobustModel + 'a> {
    RobustReport {
        model,
        robust,
        tested,
    }
}
