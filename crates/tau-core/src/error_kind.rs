//! The one classification every library error carries, so that a caller
//! (the CLI's exit codes, a web page's message style) decides in one place.

/// Whose problem an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is wrong: a malformed file or record, a bad value, an
    /// unknown name, a request that cannot apply. The user fixes the input
    /// (the CLI exits with 2).
    Input,
    /// The input is valid but the analysis failed: no convergence, a
    /// singular model, a numerical breakdown. The user changes the analysis
    /// (the CLI exits with 1).
    Analysis,
}

/// An error that knows its [`ErrorKind`]: every error type of tau-core
/// implements it, so a caller maps kinds to its own conventions once.
pub trait Kinded: std::error::Error {
    /// Whose problem the error is.
    fn kind(&self) -> ErrorKind;
}
