//! # tau-wasm: tau in the browser
//!
//! A thin wasm-bindgen layer over `tau-core` and `tau-plot` for the teaching
//! page in `web/`. Every function takes and returns JSON text, so the page
//! sees the same field names as `tau pool --format json` and
//! `tau simulate --format json`, and the numbers are the CLI's numbers: the
//! same library code computes them, from the same study-record format.
//!
//! * [`read_file`]: a JSON or CSV study file to tau JSON records, with tau's
//!   located messages (as the CLI prints them) for bad records;
//! * [`analyse`]: pool a tau JSON document (and split it by a moderator),
//!   with the forest and funnel plots as SVG;
//! * [`simulate`]: `tau simulate`; [`tau2_draws`]: each estimator's τ̂² in
//!   the first replicates of the same simulation, for a histogram;
//! * with the `panels` feature, `leave_one_out`, `bias`, `bayes` and
//!   `paper_tables`: the panels of `tau leave-one-out`, `tau bias`, `tau
//!   bayes` and `--format markdown`/`latex` (module `panels`). The page
//!   builds the engine twice: without the feature for the first load (the
//!   size budget of 500 KB gzipped), and with it as a second module that
//!   loads when a student opens one of those panels.

#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tau_core::PoolResult;
#[cfg(feature = "panels")]
use tau_core::analysis::{Analysis, Plan};
use tau_core::analysis::{Model, Question, Spec};
use tau_core::data::dataset::{self, Dataset, LoadError, StudyIssue};
use tau_core::input;
use tau_core::model::{Control, FitOptions, Method, Test, fit, intercept_design};
use tau_core::report::json::PoolJson;
use tau_core::subgroup::{SubgroupOptions, SubgroupResult, Tau2Mode};
use tau_core::{Measure, simulate as sim};
use tau_plot::{Fitted, ForestOptions};
use wasm_bindgen::prelude::wasm_bindgen;

#[cfg(feature = "panels")]
mod panels;
#[cfg(feature = "panels")]
pub use panels::{bayes, bias, leave_one_out, paper_tables};

/// A bad record for the study table: which record and field, and tau's
/// message without a position (the table shows where).
#[derive(Debug, Serialize)]
struct CellIssue {
    index: usize,
    field: Option<&'static str>,
    message: String,
}

fn cell_issues(error: &LoadError) -> Vec<CellIssue> {
    match error {
        LoadError::Studies { issues, .. } => issues
            .iter()
            .map(|issue| CellIssue {
                index: issue.index,
                field: issue.field,
                message: StudyIssue {
                    position: None,
                    ..issue.clone()
                }
                .to_string(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads a study file called `name` (CSV when the name ends in `.csv`,
/// JSON otherwise). Returns `{"file": records or null, "error": message or
/// null, "issues": [...]}`: `file` is the tau JSON document (an object with
/// `studies`) whenever the text parses, so the page can show the records
/// and mark the bad cells; `error` is the message `tau pool` prints for the
/// same file.
#[wasm_bindgen]
pub fn read_file(text: &str, name: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let is_csv = name.to_ascii_lowercase().ends_with(".csv");
    let parsed = if is_csv {
        input::csv::parse_csv(text).map(|(file, _)| file)
    } else {
        input::json::parse_json(text)
    };
    let checked = if is_csv {
        dataset::load_csv(text, None)
    } else {
        dataset::load_json(text, None)
    };
    let (error, issues) = match &checked {
        Ok(_) => (None, Vec::new()),
        Err(e) => (Some(e.in_file(name)), cell_issues(e)),
    };
    json!({
        "file": parsed.ok().map(|file| to_value(&file)),
        "error": error,
        "issues": issues,
    })
    .to_string()
}

/// The page's request: an analysis [`Spec`] (the same request the CLI
/// builds from its flags, with the same JSON keys: `method`, `test`,
/// `level`, `by`, `question`, `mods`, `random`, `robust` ...) plus the
/// `measure` for raw data, which is how the records are read.
fn page_request(options: &str) -> Result<(Option<Measure>, bool, Spec), String> {
    let mut value: Value =
        serde_json::from_str(options).map_err(|e| format!("bad analysis options: {e}"))?;
    let measure = match value.as_object_mut().and_then(|o| o.remove("measure")) {
        Some(Value::String(name)) => measure_option(Some(&name))?,
        _ => None,
    };
    // `"plots": false` skips drawing (for data too large to show).
    let plots = !matches!(
        value.as_object_mut().and_then(|o| o.remove("plots")),
        Some(Value::Bool(false))
    );
    let mut spec: Spec =
        serde_json::from_value(value).map_err(|e| format!("bad analysis options: {e}"))?;
    // As the CLI's --level: a proportion below 1 (metafor's level = 0.95)
    // is read as a percentage.
    if spec.level > 0.0 && spec.level < 1.0 {
        spec.level = (spec.level * 1e11).round() / 1e9;
    }
    if spec.by.as_deref().is_some_and(str::is_empty) {
        spec.by = None;
    }
    Ok((measure, plots, spec))
}

fn measure_option(name: Option<&str>) -> Result<Option<Measure>, String> {
    match name.filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(n) => Measure::parse(n)
            .map(Some)
            .ok_or_else(|| format!("unknown measure {n:?}; use one of {}", Measure::list())),
    }
}

fn failure(message: String, issues: Vec<CellIssue>) -> String {
    failure_value(message, issues).to_string()
}

fn failure_value(message: String, issues: Vec<CellIssue>) -> Value {
    json!({ "ok": false, "error": message, "issues": issues })
}

/// A refused request: every refusal, each naming its field.
fn refused(refusals: &tau_core::analysis::Refusals) -> Value {
    let list: Vec<Value> = refusals
        .0
        .iter()
        .map(|r| json!({ "field": r.field.name(), "message": r.to_string() }))
        .collect();
    json!({ "ok": false, "error": refusals.to_string(), "refusals": list })
}

/// The page's tau JSON document as a data set; a bad record is the
/// failure JSON with the cells to mark.
fn load(doc: &str, measure: Option<Measure>) -> Result<Dataset, Value> {
    dataset::load_json(doc, measure).map_err(|e| {
        // The table marks each bad cell: say what is wrong, not where in
        // the page's internal JSON text.
        let issues = cell_issues(&e);
        let message = match issues.is_empty() {
            true => e.to_string(),
            false => issues
                .iter()
                .map(|i| i.message.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        };
        failure_value(message, issues)
    })
}

fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Runs the analysis request `options` (a [`Spec`] as JSON, plus
/// `measure`) on the tau JSON document `doc`.
///
/// The pooled analysis (`question` pool, no `random`, no `robust`) returns
/// `{"ok": true, "pool", "subgroup", "forest_svg", "funnel_svg",
/// "plot_error"}` (split by `by` when given). Every other request returns
/// `{"ok": true, "analysis", "forest_svg", "funnel_svg", "bubble_svg",
/// "plot_error"}` (`funnel_svg`: a GLMM's),
/// where `analysis` is the JSON of the CLI's command for the same request
/// (`bubble_svg`: `tau bubble`'s plot of a meta-regression on one
/// continuous moderator). A refused request
/// returns `{"ok": false, "error", "refusals": [{"field", "message"}]}`, a
/// failed one `{"ok": false, "error", "issues"}`.
#[wasm_bindgen]
pub fn analyse(doc: &str, options: &str) -> String {
    let (measure, plots, spec) = match page_request(options) {
        Ok(request) => request,
        Err(e) => return failure(e, Vec::new()),
    };
    let plan = match spec.validate() {
        Ok(plan) => plan,
        Err(refusals) => return refused(&refusals).to_string(),
    };
    let data = match load(doc, measure) {
        Ok(d) => d,
        Err(failed) => return failed.to_string(),
    };
    let mut out = match &plan.model {
        Model::Univariate(fit) if plan.question == Question::Pool && plan.robust.is_none() => {
            pooled(&data, *fit, spec.by.as_deref(), plots)
        }
        #[cfg(feature = "panels")]
        _ => whole(&spec, &plan, &data, plots),
        // The first-load engine pools only (web/build.sh's size budget); the
        // page sends every other request to the second module.
        #[cfg(not(feature = "panels"))]
        _ => failure_value(
            "this request (a meta-regression, multilevel, robust or other model) is answered by the engine's second module: load it with the panels feature".into(),
            Vec::new(),
        ),
    };
    if let Some(object) = out.as_object_mut() {
        object.insert("left_out".into(), to_value(&data.left_out));
    }
    out.to_string()
}

/// Any other request, through the analysis request's `run`: its JSON, the
/// forest plot of a multilevel model, the bubble plot of a meta-regression.
#[cfg(feature = "panels")]
fn whole(spec: &Spec, plan: &Plan, data: &Dataset, plots: bool) -> Value {
    let analysis = match tau_core::analysis::run(spec, data, &|_| {}) {
        Ok(a) => a,
        Err(e) => return failure_value(e.to_string(), Vec::new()),
    };
    // The forest plot of a multilevel model: the CLI's (`tau forest --random`).
    let mut forest = (plots && matches!(plan.model, Model::Multilevel(_))).then(|| {
        let (result, groups, _) =
            tau_core::analysis::multilevel_forest(spec, data).map_err(|e| e.to_string())?;
        tau_plot::multilevel_forest_svg(data, &result, groups.as_ref(), &ForestOptions::default())
            .map_err(|e| e.to_string())
    });
    // A GLMM's forest and funnel plots: the CLI's (`tau forest --glmm`,
    // `tau funnel --glmm`).
    let mut funnel = None;
    if let (true, Analysis::Glmm(result)) = (plots, &analysis) {
        let (forest_svg, funnel_svg) = glmm_plots(result, data);
        forest = Some(forest_svg);
        funnel = funnel_svg.ok();
    }
    let regression = match &analysis {
        Analysis::Regression(result) => Some(result),
        Analysis::Robust { model, .. } => match model.as_ref() {
            Analysis::Regression(result) => Some(result),
            _ => None,
        },
        _ => None,
    };
    let bubble = regression
        .filter(|_| plots)
        .and_then(|r| bubble_svg(spec, data, r));
    json!({
        "ok": true,
        "analysis": analysis.to_json(data),
        "forest_svg": forest.as_ref().and_then(|f| f.as_ref().ok()),
        "funnel_svg": funnel,
        "bubble_svg": bubble,
        "plot_error": forest.and_then(Result::err),
    })
}

/// The forest and funnel plots of a GLMM, as `tau forest --glmm` and `tau
/// funnel --glmm` draw them.
#[cfg(feature = "panels")]
fn glmm_plots(
    result: &tau_core::glmm::GlmmResult,
    data: &Dataset,
) -> (Result<String, String>, Result<String, String>) {
    let (shown, view) = match tau_core::glmm::pooled_view::pooled_view(result, data) {
        Ok(v) => v,
        Err(e) => return (Err(e.to_string()), Err(e.to_string())),
    };
    let fitted = [tau_plot::Fitted {
        model: tau_plot::Model::Random,
        pooled: &view,
        subgroups: None,
    }];
    let forest = tau_plot::forest(&shown, &fitted, &ForestOptions::default())
        .map(|p| p.svg)
        .map_err(|e| e.to_string());
    let funnel = tau_plot::funnel_svg(&tau_plot::FunnelSpec::from_pool(&view, &shown))
        .map_err(|e| e.to_string());
    (forest, funnel)
}

/// `tau bubble`'s plot of a meta-regression on one continuous moderator;
/// `None` for any other model (no line to draw).
#[cfg(feature = "panels")]
fn bubble_svg(
    spec: &Spec,
    data: &Dataset,
    result: &tau_core::regression::RegressionResult,
) -> Option<String> {
    let [moderator] = spec.mods.as_slice() else {
        return None;
    };
    let moderator = moderator.trim();
    match tau_core::data::moderator::column(data, moderator) {
        Ok(tau_core::data::moderator::Column::Categorical(_)) | Err(_) => return None,
        Ok(_) => {}
    }
    let options = tau_plot::bubble::BubbleOptions {
        width: 640,
        height: 480,
        title: None,
        x_label: moderator.to_owned(),
        y_label: data.measure.description().to_owned(),
    };
    tau_plot::bubble::bubble_svg(result, &options).ok()
}

/// The page's pooled analysis: pooled, split by `by` when given, with the
/// forest and funnel plots.
fn pooled(data: &Dataset, fit: FitOptions, by: Option<&str>, plots: bool) -> Value {
    let result = match tau_core::pool(data, &fit) {
        Ok(r) => r,
        Err(e) => return failure_value(e.to_string(), Vec::new()),
    };
    let subgroup = by.map(|by| split(data, fit, by));
    let groups = match &subgroup {
        Some(Ok(s)) => Some(s),
        _ => None,
    };
    let not_drawn = || Err("plots are off for this request".to_owned());
    let forest = match plots {
        true => forest_svg(data, &result, fit, groups),
        false => not_drawn(),
    };
    let funnel = match plots {
        true => tau_plot::funnel_svg(&tau_plot::FunnelSpec::from_pool(&result, data))
            .map_err(|e| e.to_string()),
        false => not_drawn(),
    };
    let plot_error = match (&forest, &funnel) {
        _ if !plots => None,
        (Err(e), _) | (_, Err(e)) => Some(e.clone()),
        _ => None,
    };
    json!({
        "ok": true,
        "pool": to_value(&PoolJson::new(&result, data)),
        "subgroup": groups.map(to_value),
        "subgroup_error": subgroup.and_then(Result::err),
        "forest_svg": forest.ok(),
        "funnel_svg": funnel.ok(),
        "plot_error": plot_error,
    })
}

/// `tau subgroup --by BY` (separate τ² per level, levels sorted).
fn split(data: &Dataset, fit: FitOptions, by: &str) -> Result<SubgroupResult, String> {
    tau_core::subgroup(
        data,
        &SubgroupOptions {
            fit,
            by: by.to_owned(),
            tau2: Tau2Mode::Separate,
            levels: None,
        },
    )
    .map_err(|e| e.to_string())
}

/// The forest plot as `tau forest` draws it (with `--by` when `groups` is
/// given): the primary model only; split by a moderator, the studies
/// without a value for it are left out of the plot and its pooled result.
fn forest_svg(
    data: &Dataset,
    pooled: &PoolResult,
    fit: FitOptions,
    groups: Option<&SubgroupResult>,
) -> Result<String, String> {
    let options = ForestOptions::default();
    let model = options.fits(&fit)[0].0;
    let draw = |data: &Dataset, pooled: &PoolResult, groups: Option<&SubgroupResult>| {
        let fitted = [Fitted {
            model,
            pooled,
            subgroups: groups,
        }];
        tau_plot::forest(data, &fitted, &options)
            .map(|plot| plot.svg)
            .map_err(|e| e.to_string())
    };
    match groups {
        Some(g) if !g.dropped.is_empty() => {
            let mut kept: Vec<usize> = g.groups.iter().flat_map(|g| g.studies.clone()).collect();
            kept.sort_unstable();
            let data = Dataset {
                studies: kept.iter().map(|&i| data.studies[i].clone()).collect(),
                ..data.clone()
            };
            let pooled = tau_core::pool(&data, &fit).map_err(|e| e.to_string())?;
            let groups = split(&data, fit, &g.settings.by)?;
            draw(&data, &pooled, Some(&groups))
        }
        _ => draw(data, pooled, groups),
    }
}

/// What the simulation lab chooses: the flags of `tau simulate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SimulationOptions {
    k: usize,
    tau2: f64,
    mu: f64,
    n_min: u32,
    n_max: u32,
    reps: u64,
    methods: Vec<String>,
    tests: Vec<String>,
    level: f64,
    seed: u64,
}

fn simulation_settings(options: &str) -> Result<sim::Settings, String> {
    let o: SimulationOptions =
        serde_json::from_str(options).map_err(|e| format!("bad simulation options: {e}"))?;
    let methods = o
        .methods
        .iter()
        .map(|m| Method::parse(m).ok_or_else(|| format!("unknown estimator {m:?}")))
        .collect::<Result<_, _>>()?;
    let tests = o
        .tests
        .iter()
        .map(|t| Test::parse(t).ok_or_else(|| format!("unknown test {t:?}")))
        .collect::<Result<_, _>>()?;
    let settings = sim::Settings {
        scenario: sim::Scenario {
            mu: o.mu,
            tau2: o.tau2,
            k: o.k,
            n_min: o.n_min,
            n_max: o.n_max,
        },
        reps: o.reps,
        methods,
        tests,
        level: o.level,
        seed: o.seed,
        control: Control::default(),
    };
    settings.validate().map_err(|e| e.to_string())?;
    Ok(settings)
}

/// Runs `tau simulate` with `options` (`{"k", "tau2", "mu", "n_min",
/// "n_max", "reps", "methods", "tests", "level", "seed"}`, as its flags).
/// Returns `{"ok": true, "result"}` with the JSON of `tau simulate --format
/// json`, or `{"ok": false, "error"}`.
#[wasm_bindgen]
pub fn simulate(options: &str) -> String {
    let result = simulation_settings(options)
        .and_then(|settings| sim::simulate(&settings).map_err(|e| e.to_string()));
    match result {
        Ok(r) => json!({ "ok": true, "result": to_value(&r) }).to_string(),
        Err(e) => json!({ "ok": false, "error": e }).to_string(),
    }
}

/// Each estimator's τ̂² in the first `draws` replicates of the simulation
/// that [`simulate`] runs with the same `options` (the same data, replicate
/// by replicate): `{"ok": true, "draws": {"REML": [...], ...}}`. A failed
/// fit is `null`.
#[wasm_bindgen]
pub fn tau2_draws(options: &str, draws: u32) -> String {
    let settings = match simulation_settings(options) {
        Ok(s) => s,
        Err(e) => return json!({ "ok": false, "error": e }).to_string(),
    };
    let x = intercept_design(settings.scenario.k);
    let mut out = serde_json::Map::new();
    let reps = u64::from(draws).min(settings.reps);
    let replicates: Vec<_> = (0..reps)
        .map(|index| settings.scenario.draw(settings.seed, index))
        .collect();
    for &method in &settings.methods {
        let options = FitOptions {
            method,
            test: Test::Z,
            level: settings.level,
            control: settings.control,
        };
        let values: Vec<Option<f64>> = replicates
            .iter()
            .map(|r| fit(&r.yi, &r.vi, &x, &options).ok().map(|m| m.tau2))
            .collect();
        out.insert(method.name().to_owned(), to_value(&values));
    }
    json!({ "ok": true, "draws": out }).to_string()
}

#[cfg(test)]
mod tests;
