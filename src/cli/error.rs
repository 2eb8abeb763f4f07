//! Errors of the command line, and their exit codes.

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

impl From<tau_core::model::FitError> for CliError {
    fn from(e: tau_core::model::FitError) -> Self {
        use tau_core::model::FitError;
        match e {
            FitError::TooFewStudies { .. }
            | FitError::BadVariance { .. }
            | FitError::BadLevel(_) => CliError::Input(e.to_string()),
            _ => CliError::Analysis(e.to_string()),
        }
    }
}

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
