//! The page's panels beyond the pooled summary: leave-one-out, the bias
//! panel, the Bayesian model, and the paper tables of any analysis.
//!
//! Each entry point takes the page's request (the same JSON as
//! [`analyse`](crate::analyse)) and calls one entry point of tau-core, the one
//! the CLI command of the same name calls, and draws the command's plot with
//! tau-plot. Nothing here fits a model of its own.

use serde_json::{Value, json};
use tau_core::Dataset;
use tau_core::analysis::{Analysis, Model, ReportVisitor};
use tau_core::bayes::{BayesOptions, MuPrior, TauPrior};
use tau_core::model::FitOptions;
use tau_core::report::Report;
use tau_core::report::latex::LatexView;
use tau_core::report::markdown::MarkdownView;
use tau_core::report::paper::DEFAULT_DIGITS;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::{failure_value, load, page_request, refused, to_value};

/// The paper tables of the analysis that `options` asks for (the page's
/// request, as [`analyse`](crate::analyse)): `{"ok": true, "tables":
/// {"markdown", "latex"}}`, the command's `--format markdown` and `--format
/// latex` output.
#[wasm_bindgen]
pub fn paper_tables(doc: &str, options: &str) -> String {
    let run = || -> Result<Value, Value> {
        let (measure, _, spec) = page_request(options).map_err(|e| failure_value(e, Vec::new()))?;
        spec.validate().map_err(|r| refused(&r))?;
        let data = load(doc, measure)?;
        let analysis = tau_core::analysis::run(&spec, &data, &|_| {})
            .map_err(|e| failure_value(e.to_string(), Vec::new()))?;
        Ok(json!({ "ok": true, "tables": analysis_tables(&analysis, &data) }))
    };
    finish(run())
}

/// The data and the model with one τ² that `options` asks for, or the
/// page's failure JSON.
fn univariate(doc: &str, options: &str, what: &str) -> Result<(Dataset, FitOptions), Value> {
    let (measure, _, spec) = page_request(options).map_err(|e| failure_value(e, Vec::new()))?;
    let plan = spec.validate().map_err(|r| refused(&r))?;
    let Model::Univariate(fit) = plan.model else {
        return Err(failure_value(
            format!(
                "{what} is computed for a model with one tau^2 (metafor's rma.uni): leave out the multilevel structure"
            ),
            Vec::new(),
        ));
    };
    Ok((load(doc, measure)?, fit))
}

fn finish(out: Result<Value, Value>) -> String {
    match out {
        Ok(value) | Err(value) => value.to_string(),
    }
}

/// `tau leave-one-out`: the model refitted without each study, and its
/// plot. Returns `{"ok": true, "result", "plot_svg", "plot_error"}`.
#[wasm_bindgen]
pub fn leave_one_out(doc: &str, options: &str) -> String {
    finish(
        univariate(doc, options, "leave-one-out").and_then(|(data, fit)| {
            let result = tau_core::sensitivity::leave_one_out::leave_one_out(&data, &fit)
                .map_err(|e| failure_value(e.to_string(), Vec::new()))?;
            let plot = tau_plot::sensitivity::refit_forest_svg(
                "Leave-one-out",
                &format!("Estimate without the study ({})", data.measure),
                &result.studies,
                Some(result.overall.estimate.value),
            );
            Ok(json!({
                "ok": true,
                "result": to_value(&result),
                "plot_svg": plot.as_ref().ok(),
                "plot_error": plot.err().map(|e| e.to_string()),
            }))
        }),
    )
}

/// `tau bias`: Egger's test, Begg's test, trim-and-fill, fail-safe N,
/// PET-PEESE and the 3PSM, with the funnel plot of `tau funnel --trimfill
/// --selection 0.025` (filled studies as open points). Returns `{"ok":
/// true, "result", "funnel_svg", "plot_error"}`.
#[wasm_bindgen]
pub fn bias(doc: &str, options: &str) -> String {
    finish(
        univariate(doc, options, "the bias panel").and_then(|(data, fit)| {
            let result = tau_core::bias::bias(&data, &fit)
                .map_err(|e| failure_value(e.to_string(), Vec::new()))?;
            let funnel = tau_core::pool(&data, &fit)
                .map_err(|e| e.to_string())
                .and_then(|pooled| {
                    let mut spec = tau_plot::FunnelSpec::from_pool(&pooled, &data);
                    if let Some(tf) = &result.trimfill {
                        spec.adjusted = Some(tf.estimate);
                        spec.filled = tf.filled.iter().map(|f| (f.yi, f.vi.sqrt())).collect();
                    }
                    if let Some(model) = &result.selection {
                        spec.selection = Some(("3PSM estimate".into(), model.estimate.value));
                    }
                    tau_plot::funnel_svg(&spec).map_err(|e| e.to_string())
                });
            Ok(json!({
                "ok": true,
                "result": to_value(&result),
                "funnel_svg": funnel.as_ref().ok(),
                "plot_error": funnel.err(),
            }))
        }),
    )
}

/// `tau bayes`: the Bayesian random-effects model. `options` is the page's
/// request plus `tau_prior` and `mu_prior` written as the CLI's flags take
/// them (`"half-normal:0.5"`, `"flat"`) and `average`. Returns `{"ok":
/// true, "result", "density_svg", "forest_svg", "plot_error"}`.
#[wasm_bindgen]
pub fn bayes(doc: &str, options: &str) -> String {
    finish(bayes_request(options).and_then(|(request, bayes)| {
        let (measure, _, _) =
            page_request(&request.to_string()).map_err(|e| failure_value(e, Vec::new()))?;
        let data = load(doc, measure)?;
        let result = tau_core::bayes::fit(&data, &bayes)
            .map_err(|e| failure_value(e.to_string(), Vec::new()))?;
        let density = tau_plot::bayes_density_svg(&result);
        let forest = tau_plot::bayes_forest_svg(&result);
        let plot_error = [&density, &forest]
            .into_iter()
            .find_map(|p| p.as_ref().err().map(|e| e.to_string()));
        Ok(json!({
            "ok": true,
            "result": to_value(&result),
            "density_svg": density.ok(),
            "forest_svg": forest.ok(),
            "plot_error": plot_error,
        }))
    }))
}

/// Splits the Bayesian settings off the page's request.
fn bayes_request(options: &str) -> Result<(Value, BayesOptions), Value> {
    let bad = |e: String| failure_value(e, Vec::new());
    let mut request: Value =
        serde_json::from_str(options).map_err(|e| bad(format!("bad analysis options: {e}")))?;
    let object = request
        .as_object_mut()
        .ok_or_else(|| bad("bad analysis options: not an object".into()))?;
    let text = |value: Option<Value>| value.and_then(|v| v.as_str().map(str::to_owned));
    let tau_prior = text(object.remove("tau_prior"))
        .ok_or_else(|| bad("`tau_prior`: choose a prior for tau, e.g. half-normal:0.5".into()))?;
    let mu_prior = text(object.remove("mu_prior")).unwrap_or_else(|| "flat".into());
    let average = object.remove("average").and_then(|v| v.as_bool()) == Some(true);
    let level = object.get("level").and_then(Value::as_f64).unwrap_or(95.0);
    let prior_error = |e: tau_core::bayes::BayesError| bad(e.to_string());
    let bayes = BayesOptions {
        tau_prior: TauPrior::parse(&tau_prior).map_err(prior_error)?,
        mu_prior: MuPrior::parse(&mu_prior).map_err(prior_error)?,
        level: if level > 0.0 && level < 1.0 {
            level * 100.0
        } else {
            level
        },
        average,
    };
    Ok((request, bayes))
}

/// The Markdown and LaTeX tables (`--format markdown`, `--format latex`,
/// at the CLI's default digits) of a report: `{"markdown", "latex"}`.
fn tables<R: MarkdownView + LatexView + ?Sized>(report: &R) -> Value {
    let text = |write: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut out = Vec::new();
        write(&mut out)
            .ok()
            .and_then(|()| String::from_utf8(out).ok())
    };
    json!({
        "markdown": text(&|out| report.write_markdown(DEFAULT_DIGITS, out)),
        "latex": text(&|out| report.write_latex(DEFAULT_DIGITS, out)),
    })
}

/// The paper tables of a whole analysis, as the CLI writes them for the
/// same request; `Value::Null` for an analysis without a report.
fn analysis_tables(analysis: &Analysis, data: &Dataset) -> Value {
    analysis.visit_report(data, Tables).unwrap_or(Value::Null)
}

/// Turns a report into its paper tables.
struct Tables;

impl ReportVisitor for Tables {
    type Output = Value;

    fn visit<R: Report + serde::Serialize + ?Sized>(self, report: &R) -> Value {
        tables(report)
    }
}
