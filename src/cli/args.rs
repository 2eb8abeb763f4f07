//! Flags shared by several subcommands, and loading the input they name.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use tau_core::report::Format;

use clap::Args;

use super::CliError;
use super::output::{io_reason, note, warn};
use super::provenance::InputProvenance;
use tau_core::data::dataset::{Dataset, LoadOptions};
use tau_core::data::moderator::Filter;
use tau_core::effect_size::measure::Measure;
use tau_core::input::csv::CsvOptions;
use tau_core::model::{Control, FitOptions, Method};

// The input file and how to read it.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Study file: .json, .csv, .xlsx, .ods or .rm5 (RevMan 5), or - for standard input (told apart by content).
    pub file: PathBuf,
    /// Effect-size measure for raw data (overrides the file's "measure"):
    /// SMD, MD, OR, RR, RD, ZCOR, COR, PR, PLO, GEN, SMCR, SMCC, MC, MN, MNLN, SMDH, ROM, IRR, IRD,
    /// IRLN, PFT, PAS or UCOR.
    #[arg(long, value_parser = parse_measure)]
    pub measure: Option<Measure>,
    /// Keep only the studies whose moderator has this value, e.g.
    /// --filter outcome=PB, or does not (--filter outcome!=PB); repeat it to
    /// require several. Applied before the records are checked.
    #[arg(long = "filter", value_name = "MODERATOR=VALUE", value_parser = parse_filter)]
    pub filters: Vec<Filter>,
    /// Leave out the study with this label (repeatable), e.g. for a sensitivity check.
    #[arg(long = "exclude", value_name = "LABEL")]
    pub exclude: Vec<String>,
    /// Stop at a record with missing effect data instead of leaving it out with a warning.
    #[arg(long)]
    pub strict: bool,
    /// Pre-post correlation assumed for pre-post records without r (SMCR,
    /// SMCC, MC), e.g. --ri 0.5; the output says where it was assumed.
    #[arg(long, value_name = "VALUE", value_parser = parse_ri, allow_negative_numbers = true)]
    pub ri: Option<f64>,
    /// CSV cell separator: ',', ';' or tab (default: found from the header line).
    #[arg(long, value_name = "SEP", value_parser = parse_separator)]
    pub sep: Option<u8>,
    /// CSV decimal mark: '.' or ',' (default: ',' when a file not separated by
    /// commas writes numbers such as 12,5; '.' otherwise).
    #[arg(long, value_name = "MARK", value_parser = parse_decimal)]
    pub decimal: Option<char>,
    /// The sheet of a spreadsheet (.xlsx, .ods) to read (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// The outcome of a RevMan 5 review (.rm5) to read, by number or name,
    /// e.g. --outcome 1.2 (default: all, with the moderator outcome).
    #[arg(long, value_name = "NUMBER")]
    pub outcome: Option<String>,
    /// Which column holds which record field, for headers tau does not
    /// recognise, e.g. --columns m1=M_exp,sd1=SD_exp,n1=n_exp (also a first
    /// line "# columns: m1=M_exp,..." in the file).
    #[arg(long, value_name = "FIELD=COLUMN,...", value_parser = parse_columns)]
    pub columns: Vec<ColumnMap>,
    /// Turn round the effects (yi -> -yi; a ratio becomes its reciprocal) of
    /// the studies whose moderator has this value, where lower is better,
    /// e.g. --reverse scale=ECBI (repeatable; a record can also say
    /// "reverse": true). Every report says so.
    #[arg(long = "reverse", value_name = "MODERATOR=VALUE", value_parser = parse_reverse)]
    pub reverse: Vec<Filter>,
}

/// One `--columns` list: (field, column header) pairs.
#[derive(Debug, Clone)]
pub struct ColumnMap(pub Vec<(String, String)>);

fn parse_columns(spec: &str) -> Result<ColumnMap, String> {
    tau_core::input::columns::parse(spec).map(ColumnMap)
}

fn parse_reverse(spec: &str) -> Result<Filter, String> {
    let rule = Filter::parse(spec).map_err(|e| e.to_string().replace("--filter", "--reverse"))?;
    if rule.negated {
        return Err(format!(
            "--reverse {spec}: give the studies to turn round as MODERATOR=VALUE, e.g. --reverse scale=ECBI"
        ));
    }
    Ok(rule)
}

fn parse_filter(spec: &str) -> Result<Filter, String> {
    Filter::parse(spec).map_err(|e| e.to_string())
}

fn parse_separator(text: &str) -> Result<u8, String> {
    match text {
        "," => Ok(b','),
        ";" => Ok(b';'),
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ => Err(format!(
            "{text:?} is no separator tau reads; use ',', ';' or tab"
        )),
    }
}

fn parse_decimal(text: &str) -> Result<char, String> {
    match text {
        "." => Ok('.'),
        "," => Ok(','),
        _ => Err(format!("{text:?} is no decimal mark; use '.' or ','")),
    }
}

fn parse_ri(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(r) if r.abs() < 1.0 => Ok(r),
        _ => Err(format!(
            "{text:?} is no correlation; give the pre-post correlation as a number strictly between -1 and 1, e.g. 0.5"
        )),
    }
}

fn parse_measure(name: &str) -> Result<Measure, String> {
    Measure::parse(name)
        .ok_or_else(|| format!("unknown measure {name:?}; use one of {}", Measure::list()))
}

impl InputArgs {
    /// The file name as shown in messages.
    pub fn display_name(&self) -> String {
        if self.file == Path::new("-") {
            "<stdin>".into()
        } else {
            self.file.display().to_string()
        }
    }

    /// Reads and checks the studies, and computes their effect sizes, for an
    /// analysis without user weights: a file whose records have a `weight`
    /// is refused (see [`InputArgs::load_weighted`]).
    pub fn load(&self) -> Result<Dataset, CliError> {
        self.refuse_weights(self.load_weighted()?)
    }

    /// [`InputArgs::load`] for a report in `format`, with the input's
    /// provenance when the report carries it (a JSON report).
    pub fn load_for(&self, format: Format) -> Result<(Dataset, Option<InputProvenance>), CliError> {
        let (data, input) = self.load_weighted_for(format)?;
        Ok((self.refuse_weights(data)?, input))
    }

    /// `data` unless one of its studies has a user weight.
    fn refuse_weights(&self, data: Dataset) -> Result<Dataset, CliError> {
        match data.first_weighted() {
            None => Ok(data),
            Some(study) => Err(CliError::Input(format!(
                "{}: study '{}' has a weight (the weight field): user weights (metafor's weights =, rma.mv's W =) are used only by tau pool and tau regress (with or without --random) and tau forest (without --random), with an inverse-variance --method and without --robust or --by; remove the weight field (or column) for this analysis",
                self.display_name(),
                study.label()
            ))),
        }
    }

    /// Reads and checks the studies, and computes their effect sizes,
    /// keeping their user weights, if any, for the analyses that use them.
    pub fn load_weighted(&self) -> Result<Dataset, CliError> {
        Ok(self.read(false)?.0)
    }

    /// [`InputArgs::load_weighted`] for a report in `format`, with the
    /// input's provenance when the report carries it (a JSON report: the
    /// other formats skip hashing the file and copying every label).
    pub fn load_weighted_for(
        &self,
        format: Format,
    ) -> Result<(Dataset, Option<InputProvenance>), CliError> {
        self.read(format == Format::Json)
    }

    /// Reads and checks the studies, and computes their effect sizes, with
    /// the input's provenance when `provenance` is asked for.
    ///
    /// A `.csv` file is read as CSV and a `.json` file as JSON; standard input
    /// and other names are JSON when the text starts with `{` or `[`, CSV otherwise.
    fn read(&self, provenance: bool) -> Result<(Dataset, Option<InputProvenance>), CliError> {
        let name = self.display_name();
        super::output::protect_input(&self.file);
        let bytes = if self.file == Path::new("-") {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| CliError::Input(format!("{name}: cannot read standard input: {e}")))?;
            bytes
        } else {
            std::fs::read(&self.file).map_err(|e| {
                CliError::Input(format!("{name}: cannot read the file: {}", io_reason(&e)))
            })?
        };
        let extension = self
            .file
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        let options = LoadOptions {
            measure: self.measure,
            filters: self.filters.clone(),
            exclude: self.exclude.clone(),
            strict: self.strict,
            ri: self.ri,
            csv: CsvOptions {
                separator: self.sep,
                decimal: self.decimal,
                columns: self.columns.iter().flat_map(|c| c.0.clone()).collect(),
            },
            reverse: self.reverse.clone(),
        };
        let data = super::input_file::load(
            &bytes,
            &name,
            extension.as_deref(),
            self.sheet.as_deref(),
            self.outcome.as_deref(),
            &options,
        )?;
        if let Some(csv) = &data.csv {
            if csv.is_unusual() {
                note(&format!("{name}: read as CSV, {}", csv.dialect()));
            }
            if !csv.renamed.is_empty() {
                let renamed: Vec<String> = csv
                    .renamed
                    .iter()
                    .map(|(header, field)| format!("'{header}' as {field}"))
                    .collect();
                note(&format!(
                    "{name}: columns read as record fields: {}",
                    tau_core::input::list_bounded(&renamed)
                ));
            }
            if !csv.moderator_columns.is_empty() {
                let columns: Vec<String> = csv
                    .moderator_columns
                    .iter()
                    .map(|c| format!("'{c}'"))
                    .collect();
                note(&format!(
                    "{name}: columns read as moderators: {}",
                    tau_core::input::list_bounded(&columns)
                ));
            }
        }
        for text in data.exclusions.iter().filter_map(|e| e.note()) {
            note(&format!("{name}: {text}"));
        }
        for warning in &data.warnings {
            warn(&format!("{name}: {warning}"));
        }
        let input = provenance.then(|| InputProvenance::of(self, &bytes, &data));
        Ok((data, input))
    }
}

// How the fixed effects are weighted (besides the records' `weight` field).
#[derive(Debug, Clone, Copy, Args)]
pub struct WeightArgs {
    /// Weight every study equally (ordinary least squares; metafor's
    /// weighted = FALSE), with sandwich standard errors; tau^2, Q and I^2 are
    /// as without it.
    #[arg(long)]
    pub unweighted: bool,
}

// Model flags.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// tau^2 estimator (metafor's names); for tau pool and leave-one-out on 2x2 tables also
    /// MH (Mantel-Haenszel) or PETO (Peto's odds ratio).
    #[arg(long, value_parser = super::values::method_choice(), default_value = "REML", ignore_case = true)]
    pub method: MethodChoice,
    /// z tests, Knapp-Hartung t tests (knha), or with --random t tests on
    /// k - p df (t).
    #[arg(long, value_parser = super::values::test_flag(), default_value = "z", ignore_case = true)]
    pub test: TestFlag,
    /// Confidence level in percent.
    #[arg(long, default_value_t = 95.0, allow_negative_numbers = true, value_parser = parse_level)]
    pub level: f64,
    /// Estimator to use if the chosen one does not converge, named as for
    /// --method (as metafor's method = c("REML", "DL")); the report says when it was used.
    #[arg(
        long,
        value_parser = super::values::method(),
        ignore_case = true,
        value_name = "METHOD",
        hide_possible_values = true
    )]
    pub fallback: Option<Method>,
    /// Iteration limit of the iterative estimators REML, ML, EB and PM (metafor's maxiter).
    #[arg(long, default_value_t = 100, value_name = "N", hide_short_help = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_iter: u32,
}

/// Parses `--level`: a percentage above 1 and below 100, or, as metafor's
/// `level = 0.95`, a proportion below 1, which is read as a percentage and
/// said so on standard error. 1 itself is refused: 1% or 100% is a guess.
pub(crate) fn parse_level(text: &str) -> Result<f64, String> {
    let level: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number; give the level in percent, e.g. 95"))?;
    if level > 1.0 && level < 100.0 {
        Ok(level)
    } else if level > 0.0 && level < 1.0 {
        // Rounded to 9 decimals: 0.57 * 100 is 56.99999999999999 in binary.
        let percent = (level * 1e11).round() / 1e9;
        // A closed standard error is ignored, as for warnings.
        let _ = writeln!(
            std::io::stderr().lock(),
            "note: --level {level} is read as a proportion, as metafor does: {percent}% intervals (write --level {percent} to silence this note)"
        );
        Ok(percent)
    } else {
        Err(format!(
            "the level must be a percentage between 1 and 100, e.g. 95, or a proportion below 1, e.g. 0.95 (got {level}); write 95 for a 95% CI"
        ))
    }
}

/// `--test` and `--method` take the analysis request's own values.
pub use tau_core::analysis::{MethodChoice, TestChoice as TestFlag};

impl ModelArgs {
    /// The fit options these flags describe. Refused: `--method MH` or
    /// `PETO`, which only `tau pool` and `tau leave-one-out` accept, and
    /// `--test t`, which belongs to a multilevel model (see [`super::multilevel`]).
    pub fn options(&self) -> Result<FitOptions, CliError> {
        let method = self.estimator()?;
        let test = match self.test {
            TestFlag::Uni(test) => test,
            TestFlag::T => {
                return Err(CliError::Input(
                    "--test t is the t test of a multilevel model (with --random); a random-effects model uses z tests or Knapp-Hartung t tests: write --test knha".into(),
                ));
            }
        };
        Ok(FitOptions {
            method,
            test,
            level: self.level,
            control: Control {
                max_iter: self.max_iter as usize,
                fallback: self.fallback,
                ..Control::default()
            },
        })
    }

    /// The τ² estimator `--method` names; an error for `--method MH` or
    /// `PETO`, which only `tau pool` and `tau leave-one-out` accept.
    pub fn estimator(&self) -> Result<Method, CliError> {
        match self.method {
            MethodChoice::Model(method) => Ok(method),
            MethodChoice::Tables(tables) => Err(CliError::Input(format!(
                "--method {} pools 2x2 tables and is accepted by tau pool, tau leave-one-out, tau cumulative and tau influence only; here give a tau^2 estimator such as EE or REML",
                tables.name()
            ))),
        }
    }
}

// Where and how to write the report.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Report format.
    #[arg(long, value_parser = super::values::format(), default_value = "text")]
    pub format: Format,
    /// Write the report to this file (atomically) instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Decimals of the numbers in --format markdown and latex (text, JSON
    /// and CSV keep their precision).
    #[arg(long, default_value_t = tau_core::report::paper::DEFAULT_DIGITS, value_name = "N",
          value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u8).range(0..=9), usize::from))]
    pub digits: usize,
}

impl OutputArgs {
    /// The format asked for, with --digits applied.
    pub fn report_format(&self) -> Format {
        self.format.with_digits(self.digits)
    }

    /// Refuses --format markdown and latex before any work, for a command
    /// whose result has no table for a paper.
    pub fn refuse_paper_formats(&self, command: &str) -> Result<(), CliError> {
        refuse_paper_format(self.format, command)
    }
}

/// Refuses `format` if it is a paper format (markdown, latex): `command`'s
/// result has no table for a paper.
pub fn refuse_paper_format(format: Format, command: &str) -> Result<(), CliError> {
    if matches!(format, Format::Markdown { .. } | Format::Latex { .. }) {
        return Err(CliError::Input(format!(
            "{command} has no table for a paper, so --format {} is not available: use --format text, json or csv",
            format.name()
        )));
    }
    Ok(())
}

/// The kind of CI of τ² (`--tau2-ci`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tau2CiKind {
    /// Q-profile (metafor's confint default).
    Qp,
    /// Wald-type: tau^2 ± z·SE, floored at 0 (ML, REML, EB, PM).
    Wald,
    /// Profile likelihood (metafor's confint(type = "PL")).
    Profile,
}

// `--tau2-ci` of `tau pool` and `tau regress`.
#[derive(Debug, Clone, Args)]
pub struct Tau2CiArgs {
    /// The CI of tau^2 (with I^2 and H^2): qp, the Q-profile CI; wald,
    /// tau^2 ± z·SE (ML, REML, EB, PM); or profile, the profile-likelihood CI
    /// (metafor's confint(res, type = "Wald" or "PL")).
    #[arg(
        long = "tau2-ci",
        value_enum,
        default_value = "qp",
        value_name = "KIND",
        conflicts_with = "robust"
    )]
    pub kind: Tau2CiKind,
}

/// The model matrix that `--mods`, `--reference MODERATOR=LEVEL` (repeatable)
/// and `--no-intercept` describe, as `tau regress` and `tau influence` take them.
pub fn design_spec(
    mods: &[String],
    references: &[String],
    no_intercept: bool,
) -> Result<tau_core::regression::DesignSpec, CliError> {
    let references = references
        .iter()
        .map(|r| match r.split_once('=') {
            Some((m, l)) if !m.trim().is_empty() => Ok((m.trim().to_owned(), l.trim().to_owned())),
            _ => Err(CliError::Input(format!(
                "--reference {r:?} is not of the form MODERATOR=LEVEL, e.g. --reference alloc=random"
            ))),
        })
        .collect::<Result<_, _>>()?;
    Ok(tau_core::regression::DesignSpec {
        moderators: mods.iter().map(|m| m.trim().to_owned()).collect(),
        references,
        intercept: !no_intercept,
    })
}
