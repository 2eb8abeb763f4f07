//! Errors of the command line, and their exit codes.

use tau_core::{ErrorKind, Kinded};

/// What went wrong, for the user.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input: unreadable file, malformed records, bad values (exit 2).
    #[error("{0}")]
    Input(String),
    /// The analysis could not be done, e.g. no convergence (exit 1).
    #[error("{0}")]
    Analysis(String),
    /// A report could not be written (exit 1).
    #[error("{0}")]
    Output(String),
}

impl CliError {
    /// The process exit code: 2 for bad input, 1 for failed analyses or output.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_) => 2,
            CliError::Analysis(_) | CliError::Output(_) => 1,
        }
    }
}

impl CliError {
    /// The error of a library failure of `kind`: the one place where a
    /// [`ErrorKind`] becomes an exit code (input 2, analysis 1).
    pub fn of_kind(kind: ErrorKind, message: String) -> CliError {
        match kind {
            ErrorKind::Input => CliError::Input(message),
            _ => CliError::Analysis(message),
        }
    }
}

/// `From` for each library error type, by its kind and with its own message.
macro_rules! from_kinded {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for CliError {
            fn from(e: $error) -> Self {
                CliError::of_kind(e.kind(), e.to_string())
            }
        }
    )*};
}

from_kinded!(
    tau_core::model::FitError,
    tau_core::bias::BiasError,
    tau_core::bias::selection::SelectionError,
    tau_core::sensitivity::SensitivityError,
    tau_core::sensitivity::moderator_test::ModeratorTestError,
    tau_core::regression::RegressionError,
    tau_core::regression::subset_test::SubsetTestError,
    tau_core::regression::predict::PredictError,
    tau_core::regression::compare::CompareError,
    tau_core::subgroup::SubgroupError,
    tau_core::simulate::SimulationError,
    tau_core::simulate::MergeError,
    tau_core::robust::RobustError,
    tau_core::multilevel::MultilevelError,
    tau_core::multilevel::vcalc::VcalcError,
);

impl CliError {
    /// Prefixes the message with the input file's name.
    pub fn with_file(self, file: &str) -> CliError {
        match self {
            CliError::Input(m) => CliError::Input(format!("{file}: {m}")),
            CliError::Analysis(m) => CliError::Analysis(format!("{file}: {m}")),
            CliError::Output(m) => CliError::Output(m),
        }
    }
}
