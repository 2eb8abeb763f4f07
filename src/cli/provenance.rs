//! Provenance of a run, added to every JSON result: the input file and its
//! SHA-256, how it was read, the filters and exclusions, the studies used and
//! left out, the command line and tau's version. An archived JSON says
//! exactly which studies gave which number.
//!
//! The loader returns an input's provenance ([`InputProvenance::of`]) beside
//! its studies, and the JSON writer adds it ([`WithProvenance`]) whatever the
//! command.

use serde::Serialize;
use sha2::{Digest, Sha256};
use tau_core::data::dataset::{Dataset, LeftOut};
use tau_core::input::csv::CsvInfo;

use super::args::InputArgs;

/// Where the studies of a result come from.
#[derive(Debug, Clone, Serialize)]
pub struct InputProvenance {
    /// The file as named on the command line (`<stdin>` for standard input).
    pub file: String,
    /// SHA-256 of the file's bytes, in hex.
    pub sha256: String,
    /// `"csv"`, `"json"` or `"spreadsheet"`.
    pub format: &'static str,
    /// For CSV: the dialect, the renamed columns and the moderator columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csv: Option<CsvInfo>,
    /// The `--filter`s applied, as written.
    pub filters: Vec<String>,
    /// The `--exclude`d labels.
    pub excluded: Vec<String>,
    /// Whether `--strict` was given.
    pub strict: bool,
    /// The pre-post correlation assumed for records without r (`--ri`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ri: Option<f64>,
    /// The labels of the studies analysed, in file order.
    pub studies_used: Vec<String>,
    /// The records left out, and why.
    pub left_out: Vec<LeftOut>,
    /// The studies whose effects were turned round (`--reverse`, `reverse`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversed: Option<Reversed>,
}

/// Effects turned round where lower is better.
#[derive(Debug, Clone, Serialize)]
pub struct Reversed {
    /// The rules and fields that turned them (`--reverse scale=ECBI`).
    pub by: Vec<String>,
    /// The studies turned round.
    pub studies: Vec<String>,
}

/// What every JSON result records about the run.
#[derive(Debug, Serialize)]
pub struct Provenance<'a> {
    /// tau's version.
    pub tau_version: &'static str,
    /// The full command line, one argument per element; the program as its
    /// file name (`tau`), not the path it was started from.
    pub command_line: Vec<String>,
    /// The input, for commands that read one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<&'a InputProvenance>,
}

impl InputProvenance {
    /// The provenance of `data`, read from `bytes` as `args` say.
    pub fn of(args: &InputArgs, bytes: &[u8], data: &Dataset) -> InputProvenance {
        InputProvenance {
            file: args.display_name(),
            sha256: hex(&Sha256::digest(bytes)),
            format: super::input_file::format_name(data),
            csv: data.csv.clone(),
            filters: args.filters.iter().map(ToString::to_string).collect(),
            excluded: args.exclude.clone(),
            strict: args.strict,
            ri: args.ri,
            studies_used: data.studies.iter().map(|s| s.label().to_owned()).collect(),
            left_out: data.left_out.clone(),
            reversed: data.warnings.iter().find_map(|w| match w {
                tau_core::Warning::Reversed { sources, studies } => Some(Reversed {
                    by: sources.clone(),
                    studies: studies.clone(),
                }),
                _ => None,
            }),
        }
    }
}

/// The provenance of this run, with its input (if it read one).
pub fn current(input: Option<&InputProvenance>) -> Provenance<'_> {
    Provenance {
        tau_version: tau_core::settings::VERSION,
        command_line: std::env::args_os()
            .enumerate()
            .map(|(i, arg)| {
                let program = (i == 0)
                    .then(|| std::path::Path::new(&arg).file_stem().map(|s| s.to_owned()))
                    .flatten();
                program.unwrap_or(arg).to_string_lossy().into_owned()
            })
            .collect(),
        input,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A result with the run's provenance as one more member.
#[derive(Serialize)]
pub struct WithProvenance<'a, T: Serialize + ?Sized> {
    #[serde(flatten)]
    result: &'a T,
    provenance: Provenance<'a>,
}

impl<'a, T: Serialize + ?Sized> WithProvenance<'a, T> {
    /// `result` with the provenance of this run, which read `input`.
    pub fn new(result: &'a T, input: Option<&'a InputProvenance>) -> Self {
        WithProvenance {
            result,
            provenance: current(input),
        }
    }
}
