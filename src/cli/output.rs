//! Writing reports: to standard output (a closed pipe ends quietly), or to a
//! file through a temporary file in the same folder that is renamed into
//! place, so a failed run never leaves a half-written or clobbered file.

use std::io::Write;
use std::path::Path;

use super::CliError;
use tau_core::report::{Format, Report, write_report};

/// Writes `contents` to `path` atomically.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), CliError> {
    write_atomic_with(path, |w| w.write_all(contents))
}

/// Writes to `path` atomically what `write` produces, through a buffer (so a
/// large report is never held in memory as a whole).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), CliError> {
    let fail = |what: &str, e: std::io::Error| {
        CliError::Output(format!(
            "{}: cannot {what}: {}",
            path.display(),
            io_reason(&e)
        ))
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = dir.join(format!(".{name}.tau-{}.tmp", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp)
            .map_err(|e| fail("create a temporary file beside it", e))?;
        let mut buffered = std::io::BufWriter::new(file);
        write(&mut buffered).map_err(|e| fail("write", e))?;
        let file = buffered
            .into_inner()
            .map_err(|e| fail("write", e.into_error()))?;
        file.sync_all().map_err(|e| fail("write", e))?;
        std::fs::rename(&tmp, path).map_err(|e| fail("move the finished file into place", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// An I/O error in words, without Rust's "(os error 2)" suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder; check the path".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a folder, not a file".into(),
        _ => e.to_string(),
    }
}

/// Writes text to a file (atomically) or to standard output.
pub fn emit(path: Option<&Path>, text: &str) -> Result<(), CliError> {
    emit_with(path, |w| w.write_all(text.as_bytes()))
}

/// Writes what `write` produces to a file (atomically) or to standard output,
/// through a buffer.
pub fn emit_with(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), CliError> {
    match path {
        Some(path) => write_atomic_with(path, write),
        None => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            match write(&mut stdout).and_then(|()| stdout.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Output(
                    format!("cannot write to standard output: {e}"),
                )),
                _ => Ok(()),
            }
        }
    }
}

/// Writes a result's report in `format` to a file (atomically) or to
/// standard output: the one place where `--format` is applied.
pub fn emit_report<R: Report + ?Sized>(
    path: Option<&Path>,
    format: Format,
    report: &R,
) -> Result<(), CliError> {
    emit_with(path, |w| write_report(report, format, w))
}

/// Prints a warning on standard error. A closed standard error is ignored:
/// warnings must never turn a finished analysis into a crash.
pub fn warn(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {message}");
}

/// Prints the warnings of an analysis on standard error, leaving out those
/// about the data set itself (printed once, when it was loaded).
pub fn warn_analysis(warnings: &[tau_core::Warning]) {
    for warning in warnings.iter().filter(|w| !w.is_about_data()) {
        warn(&warning.to_string());
    }
}
