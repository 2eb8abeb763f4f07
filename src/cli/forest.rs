//! `tau forest`: the forest plot of one file.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs};
use super::multilevel::{MultilevelArgs, refuse};
use super::plot_output::PlotOutputArgs;
use super::robust::RobustArgs;
use tau_core::analysis::Spec;
use tau_core::data::dataset::Dataset;
use tau_core::pool::{PoolResult, pool_with};
use tau_core::subgroup::{SubgroupOptions, SubgroupResult, Tau2Mode, subgroup};
use tau_plot::{Fitted, ForestOptions, Models, Sort, forest};

// Flags of `tau forest`.
#[derive(Debug, Args)]
pub struct ForestArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    multilevel: MultilevelArgs,
    #[command(flatten)]
    robust: RobustArgs,
    #[command(flatten)]
    output: PlotOutputArgs,
    /// Draw a GLMM of the 2x2 tables or counts instead (as tau pool --glmm;
    /// metafor's forest(rma.glmm(model = ...))): UM.FS, UM.RS, CM.EL or CM.AL.
    #[arg(long, value_name = "MODEL", value_parser = super::families::parse_glmm)]
    glmm: Option<tau_core::glmm::GlmmModel>,
    /// Split the studies into subgroups by this moderator (as tau subgroup --by).
    #[arg(long, value_name = "MODERATOR")]
    by: Option<String>,
    /// The order of the subgroups: every level of --by, once (default: sorted).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',', requires = "by")]
    levels: Option<Vec<String>>,
    /// Display names of the subgroups, in the order of --levels (one per level), e.g.
    /// --levels material,content --level-labels "Surface structure,Deep structure".
    #[arg(
        long,
        value_name = "A,B,...",
        value_delimiter = ',',
        requires = "levels"
    )]
    level_labels: Option<Vec<String>>,
    /// Order of the studies (within subgroups): effect, weight, or a moderator's name.
    #[arg(long, value_name = "effect|weight|MODERATOR")]
    sort: Option<String>,
    /// Show the common-effect diamond as well as the random-effects one.
    #[arg(long, conflicts_with = "common_only")]
    common: bool,
    /// Show only the common-effect model (weights and diamond).
    #[arg(long)]
    common_only: bool,
    /// Leave out the prediction interval.
    #[arg(long)]
    no_pi: bool,
    /// Leave out the raw-data columns (events, means, sizes).
    #[arg(long)]
    no_data: bool,
    /// Title above the plot.
    #[arg(long)]
    title: Option<String>,
    /// Axis label.
    #[arg(long)]
    xlab: Option<String>,
    /// Label under the left half of the axis, e.g. "Favours vaccine".
    #[arg(long)]
    favours_left: Option<String>,
    /// Label under the right half of the axis, e.g. "Favours control".
    #[arg(long)]
    favours_right: Option<String>,
    /// Names of the two arms above the raw-data columns.
    #[arg(long, value_name = "ARM1,ARM2", default_value = "Treatment,Control")]
    arms: String,
    /// Axis limits on the plotted scale (e.g. risk ratios: 0.1,2), widened to the nearest ticks.
    #[arg(long, value_name = "LO,HI", allow_hyphen_values = true)]
    xlim: Option<String>,
    /// Total width in px (1/96 in). Default: a 17 cm journal column (642 px;
    /// 2008 px in a PNG at 300 dpi), wider only when the text columns need it.
    #[arg(long)]
    width: Option<f64>,
    /// Font size in px (default: 12, shrunk down to 9 when the text columns
    /// would leave the plot less than 30% of the default width).
    #[arg(long)]
    font_size: Option<f64>,
    /// Decimals of estimates and CIs.
    #[arg(long, default_value_t = 2)]
    digits: usize,
}

fn pair(flag: &str, text: &str) -> Result<(String, String), CliError> {
    match text.split_once(',') {
        Some((a, b)) => Ok((a.trim().to_owned(), b.trim().to_owned())),
        None => Err(CliError::Input(format!(
            "--{flag} takes two values separated by a comma (got {text:?})"
        ))),
    }
}

impl ForestArgs {
    fn options(&self) -> Result<ForestOptions, CliError> {
        let (arm1, arm2) = pair("arms", &self.arms)?;
        let xlim = match &self.xlim {
            None => None,
            Some(text) => {
                let (lo, hi) = pair("xlim", text)?;
                let number = |s: &str| {
                    s.parse::<f64>()
                        .map_err(|_| CliError::Input(format!("--xlim: {s:?} is not a number")))
                };
                Some((number(&lo)?, number(&hi)?))
            }
        };
        let level_labels = match (&self.level_labels, &self.levels) {
            (Some(labels), Some(levels)) if labels.len() != levels.len() => {
                return Err(CliError::Input(format!(
                    "--level-labels gives {} names for the {} levels of --levels: give one display name per level, in the order of --levels",
                    labels.len(),
                    levels.len()
                )));
            }
            (Some(labels), Some(levels)) => {
                levels.iter().cloned().zip(labels.iter().cloned()).collect()
            }
            _ => Vec::new(),
        };
        Ok(ForestOptions {
            sort: match self.sort.as_deref() {
                None => Sort::File,
                Some("effect") => Sort::Effect,
                Some("weight") => Sort::Weight,
                Some(name) => Sort::Moderator(name.to_owned()),
            },
            models: match (self.common, self.common_only) {
                (_, true) => Models::Common,
                (true, false) => Models::Both,
                (false, false) => Models::Random,
            },
            prediction: !self.no_pi,
            title: self.title.clone(),
            xlab: self.xlab.clone(),
            width: self.width,
            favours_left: self.favours_left.clone(),
            favours_right: self.favours_right.clone(),
            arms: [arm1, arm2],
            data_columns: !self.no_data,
            xlim,
            digits: self.digits,
            font_size: self.font_size,
            level_labels,
        })
    }
}

/// Runs `tau forest`: the models pooled as `tau pool` does and, with `--by`,
/// split as `tau subgroup` does; the plot only draws these results.
pub fn run(args: &ForestArgs) -> Result<(), CliError> {
    args.output.format()?;
    let options = args.options()?;
    if let Some(glmm) = args.glmm {
        return run_glmm(args, glmm, &options);
    }
    if !args.multilevel.random.is_empty() {
        return run_multilevel(args, &options);
    }
    let fit = args.model.options()?;
    if let Some(spec) = args.robust.spec() {
        return run_robust(args, fit, &spec, &options);
    }
    // User weights are honoured by the pooled models (as metafor's forest()
    // of a weighted rma()); subgroups are fitted without them.
    let data = match args.by {
        Some(_) => args.input.load()?,
        None => args.input.load_weighted()?,
    };
    let file = args.input.display_name();
    let fits = options.fits(&fit);
    // Each analysis warning once, however many models report it.
    let mut warnings: Vec<tau_core::Warning> = Vec::new();
    let mut note = |all: &[tau_core::Warning]| {
        for w in all.iter().filter(|w| !w.is_about_data()) {
            if !warnings.contains(w) {
                warnings.push(w.clone());
            }
        }
    };
    let split = |data: &Dataset, fit| -> Result<SubgroupResult, CliError> {
        let spec = SubgroupOptions {
            fit,
            by: args.by.clone().unwrap_or_default(),
            tau2: Tau2Mode::Separate,
            levels: args.levels.clone(),
        };
        subgroup(data, &spec).map_err(|e| CliError::from(e).with_file(&file))
    };
    // Studies without a value of the moderator are left out (with subgroup's warning).
    let data = match &args.by {
        None => data,
        Some(_) => {
            let first = split(&data, fits[0].1)?;
            note(&first.warnings);
            if first.dropped.is_empty() {
                data
            } else {
                let mut kept: Vec<usize> = first
                    .groups
                    .iter()
                    .flat_map(|g| g.studies.clone())
                    .collect();
                kept.sort_unstable();
                Dataset {
                    studies: kept.iter().map(|&i| data.studies[i].clone()).collect(),
                    ..data.clone()
                }
            }
        }
    };
    let mut pooled: Vec<PoolResult> = Vec::new();
    let mut subgroups: Vec<SubgroupResult> = Vec::new();
    for (_, fit) in &fits {
        let result = pool_with(&data, fit, true).map_err(|e| CliError::from(e).with_file(&file))?;
        note(&result.warnings);
        pooled.push(result);
        if args.by.is_some() {
            let result = split(&data, *fit)?;
            note(&result.warnings);
            subgroups.push(result);
        }
    }
    super::output::warn_analysis(&warnings);
    let fitted: Vec<Fitted> = fits
        .iter()
        .enumerate()
        .map(|(m, (model, _))| Fitted {
            model: *model,
            pooled: &pooled[m],
            subgroups: subgroups.get(m),
        })
        .collect();
    let plot = forest(&data, &fitted, &options).map_err(|e| CliError::from(e).with_file(&file))?;
    args.output.write(&plot.svg)
}

/// `tau forest --random`: the effect sizes under their outermost cluster (or
/// their subgroup with `--by`), with the diamonds and prediction interval
/// of the analysis request ([`tau_core::analysis::multilevel_forest`]):
/// with `--robust` the robust CIs, as `tau pool` and `tau subgroup` report.
fn run_multilevel(args: &ForestArgs, options: &ForestOptions) -> Result<(), CliError> {
    if args.common || args.common_only {
        let flag = if args.common {
            "--common"
        } else {
            "--common-only"
        };
        return Err(refuse(
            flag,
            "a multilevel model has no common-effect counterpart drawn beside it",
        ));
    }
    let mut spec = Spec::default();
    args.model.fill(&mut spec);
    args.multilevel.fill(&mut spec)?;
    args.robust.fill(&mut spec);
    spec.by = args.by.clone();
    spec.levels = args.levels.clone();
    super::analysis::validate_nested(&spec)?;
    let data = args.input.load()?;
    let file = args.input.display_name();
    let (result, groups, warnings) = tau_core::analysis::multilevel_forest(&spec, &data)
        .map_err(|e| super::analysis::failed(&e, &file))?;
    super::output::warn_analysis(&warnings);
    let svg = tau_plot::multilevel_forest_svg(&data, &result, groups.as_ref(), options)
        .map_err(|e| CliError::from(e).with_file(&file))?;
    args.output.write(&svg)
}

/// `tau forest --robust`: the random-effects model's diamond with the
/// robust CI, and the prediction interval on the robust df.
fn run_robust(
    args: &ForestArgs,
    fit: tau_core::FitOptions,
    spec: &tau_core::robust::RobustSpec,
    options: &ForestOptions,
) -> Result<(), CliError> {
    let why =
        "the diamond shows the pooled estimate with its cluster-robust CI; leave out one of them";
    for (given, flag) in [
        (args.by.is_some(), "--by"),
        (args.common, "--common"),
        (args.common_only, "--common-only"),
    ] {
        if given {
            return Err(CliError::Input(format!(
                "{flag} cannot be used with --robust: {why}"
            )));
        }
    }
    let data = args.input.load()?;
    let file = args.input.display_name();
    let fail = |e| CliError::from(e).with_file(&file);
    let data = tau_core::robust::uni::keep_clustered(&data, &spec.cluster).map_err(fail)?;
    let (result, robust) = tau_core::robust::uni::pooled(&data, &fit, spec).map_err(fail)?;
    super::output::warn_analysis(&result.warnings);
    super::output::warn_analysis(&robust.warnings);
    let shown = tau_core::robust::uni::robust_pooled(&result, &data, &robust);
    let fitted = [Fitted {
        model: options.fits(&fit)[0].0,
        pooled: &shown,
        subgroups: None,
    }];
    let plot = forest(&data, &fitted, options).map_err(|e| CliError::from(e).with_file(&file))?;
    args.output.write(&plot.svg)
}

/// `tau forest --glmm`: the studies' escalc outcomes around the GLMM's
/// estimate and CI ([`tau_core::glmm::pooled_view`]), as `tau pool --glmm`
/// reports them.
fn run_glmm(
    args: &ForestArgs,
    glmm: tau_core::glmm::GlmmModel,
    options: &ForestOptions,
) -> Result<(), CliError> {
    use super::families::refuse_with_glmm;
    let why = "the diamond is the GLMM's estimate; leave out one of them";
    for (given, flag) in [
        (!args.multilevel.random.is_empty(), "--random"),
        (args.robust.spec().is_some(), "--robust"),
        (args.by.is_some(), "--by"),
        (args.common, "--common"),
        (args.common_only, "--common-only"),
    ] {
        if given {
            return Err(refuse_with_glmm(flag, why));
        }
    }
    let file = args.input.display_name();
    let (data, view) = super::families::glmm_view(&args.model, glmm, &args.input)?;
    let fitted = [Fitted {
        model: tau_plot::Model::Random,
        pooled: &view,
        subgroups: None,
    }];
    let plot = forest(&data, &fitted, options).map_err(|e| CliError::from(e).with_file(&file))?;
    args.output.write(&plot.svg)
}
