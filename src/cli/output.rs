//! Writing reports: to standard output (a closed pipe ends quietly), or to a
//! file through a temporary file in the same folder that is renamed into
//! place, so a failed run never leaves a half-written or clobbered file.
//!
//! The target of `-o` is resolved first: a symbolic link is followed and its
//! real target replaced (the link stays); an existing target that is not a
//! regular file (`/dev/null`, `/dev/stdout`, a named pipe) is written directly,
//! since renaming over it would replace the device or pipe itself; a replaced
//! file keeps its permission bits; and the input file is never a target,
//! nor a file another output of the run went to.
//! The temporary file is removed on failure and on SIGINT, SIGTERM and SIGHUP;
//! only a kill that cannot be caught (SIGKILL, a power cut) leaves it behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::CliError;
use super::provenance::InputProvenance;
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
    // metadata follows links: the file that a link, or /dev/stdout, names.
    let existing = std::fs::metadata(path).ok();
    if let Some(meta) = &existing {
        if let Some(what) = protected_input(meta) {
            let it = if what == INPUT_FILE { "the data" } else { "it" };
            return Err(CliError::Input(format!(
                "{}: this is {what}; writing the report there would destroy {it}. Name another file with -o",
                path.display()
            )));
        }
        if meta.is_dir() {
            return Err(fail("write", std::io::ErrorKind::IsADirectory.into()));
        }
    }
    let links = link_chain(path).map_err(|e| fail("follow the link", e))?;
    if existing.as_ref().is_some_and(|m| !m.is_file())
        || links.iter().any(|l| names_a_descriptor(l))
    {
        return write_in_place(path, write).map_err(|e| fail("write", e));
    }
    // The real file (a link is kept and its target replaced), or for a new
    // file the path a dangling link names.
    let target = match existing {
        Some(_) => std::fs::canonicalize(path).map_err(|e| fail("follow the link", e))?,
        None => links.last().cloned().unwrap_or_else(|| path.to_path_buf()),
    };
    claim_output(path, &target)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = dir.join(format!(".{name}.tau-{}.tmp", std::process::id()));
    let _cleanup = TempFile::register(tmp.clone());
    ignore_file_size_signal();
    let result = (|| {
        let file = std::fs::File::create(&tmp)
            .map_err(|e| fail("create a temporary file beside it", e))?;
        let mut buffered = std::io::BufWriter::new(file);
        write(&mut buffered).map_err(|e| fail("write", e))?;
        let file = buffered
            .into_inner()
            .map_err(|e| fail("write", e.into_error()))?;
        if let Some(meta) = &existing {
            file.set_permissions(meta.permissions())
                .map_err(|e| fail("keep the file's permissions", e))?;
        }
        file.sync_all().map_err(|e| fail("write", e))?;
        std::fs::rename(&tmp, &target).map_err(|e| fail("move the finished file into place", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes straight into an existing file that is not a regular file (a
/// device such as `/dev/null`, a named pipe) or into an open file descriptor
/// (`/dev/stdout`, `/dev/fd/N`): it cannot be replaced, only written. A
/// regular file behind a descriptor (`-o /dev/stdout >> log`) is appended to,
/// as the shell would. A closed pipe ends quietly, as on standard output.
fn write_in_place(
    target: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new().append(true).open(target)?;
    let mut buffered = std::io::BufWriter::new(file);
    match write(&mut buffered).and_then(|()| buffered.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `path` and the paths its symbolic links lead to (up to 40 links, as the
/// kernel follows), the last one not a link; it need not exist yet.
fn link_chain(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut chain = vec![path.to_path_buf()];
    for _ in 0..40 {
        let current = &chain[chain.len() - 1];
        match std::fs::symlink_metadata(current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(current)?;
                let next = match current.parent() {
                    Some(dir) => dir.join(link),
                    None => link,
                };
                chain.push(next);
            }
            _ => return Ok(chain),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Whether `path` names an open file descriptor (`/dev/stdout`, `/dev/stderr`,
/// `/dev/fd/N`, `/proc/…/fd/N`) rather than a file.
fn names_a_descriptor(path: &Path) -> bool {
    let text = path.to_string_lossy();
    matches!(text.as_ref(), "/dev/stdout" | "/dev/stderr" | "/dev/stdin")
        || text.starts_with("/dev/fd/")
        || (text.starts_with("/proc/") && text.contains("/fd/"))
}

/// The identity of a file: device and inode on Unix, so that another name
/// (a link, a relative path) of the same file is recognised.
#[cfg(unix)]
type FileId = (u64, u64);

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
type FileId = ();

#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> Option<FileId> {
    None
}

/// The input files of this run, which `-o` must not replace, and how
/// messages name each ("the input file", "the --predict-file table").
static INPUTS: Mutex<Vec<(FileId, &'static str)>> = Mutex::new(Vec::new());

/// Records `path` (or standard input, for `-`) as an input of this run, so
/// that a report is never written over it. Call it before reading the input.
pub fn protect_input(path: &Path) {
    protect_input_as(path, INPUT_FILE);
}

/// How messages name the study file.
const INPUT_FILE: &str = "the input file";

/// [`protect_input`] for an input that messages call `what`, e.g.
/// "the --predict-file table".
pub fn protect_input_as(path: &Path, what: &'static str) {
    #[cfg(unix)]
    let meta = if path == Path::new("-") {
        use std::os::fd::AsFd;
        std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .and_then(|fd| std::fs::File::from(fd).metadata().ok())
    } else {
        std::fs::metadata(path).ok()
    };
    #[cfg(not(unix))]
    let meta = std::fs::metadata(path).ok();
    // Only regular files can be overwritten; a pipe or terminal on standard input is no risk.
    if let Some(id) = meta.filter(|m| m.is_file()).as_ref().and_then(file_id)
        && let Ok(mut inputs) = INPUTS.lock()
    {
        inputs.push((id, what));
    }
}

/// How messages name the input `meta` is of, if it is one.
fn protected_input(meta: &std::fs::Metadata) -> Option<&'static str> {
    let id = file_id(meta)?;
    let inputs = INPUTS.lock().ok()?;
    inputs
        .iter()
        .find_map(|(input, what)| (*input == id).then_some(*what))
}

/// The files this run has written (their real paths), so that a second
/// output never replaces the first: `--plot x.svg -o x.svg` would leave
/// only the report.
static WRITTEN: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Records `target`, the real path `path` resolves to, as written by this
/// run; refuses it if an earlier output of the run went there.
fn claim_output(path: &Path, target: &Path) -> Result<(), CliError> {
    let name = canonical_name(target);
    let Ok(mut written) = WRITTEN.lock() else {
        return Ok(());
    };
    if written.contains(&name) {
        return Err(CliError::Input(format!(
            "{}: another output of this run was written to this file; writing there again would replace it. Give each output its own file",
            path.display()
        )));
    }
    written.push(name);
    Ok(())
}

/// A path made absolute with its links resolved; for a file that does not
/// exist yet (or a link to one), its folder's canonical path and its name.
fn canonical_name(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let links = link_chain(path).unwrap_or_default();
    let path = links.last().map_or(path, PathBuf::as_path);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(dir), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// Refuses, before any work is done, two outputs that name one file (by
/// their canonical paths, so a link or another spelling is caught), or an
/// output that names an input already recorded by [`protect_input`].
/// `outputs` pairs each flag (`-o`, `--plot`) with its file, if given.
/// Devices and descriptors (`/dev/null`, `/dev/stdout`) may be shared.
pub fn refuse_shared_files(outputs: &[(&str, Option<&Path>)]) -> Result<(), CliError> {
    let given: Vec<(&str, &Path, PathBuf)> = outputs
        .iter()
        .filter_map(|&(flag, path)| path.map(|p| (flag, p)))
        .filter(|(_, path)| std::fs::metadata(path).map_or(true, |m| m.is_file()))
        .map(|(flag, path)| (flag, path, canonical_name(path)))
        .collect();
    for (i, (flag, path, name)) in given.iter().enumerate() {
        if let Some((first, ..)) = given[..i].iter().find(|(.., other)| other == name) {
            return Err(CliError::Input(format!(
                "{}: {first} and {flag} name the same file, so one output would replace the other; give each its own file",
                path.display()
            )));
        }
        if let Some(what) = std::fs::metadata(path)
            .ok()
            .as_ref()
            .and_then(protected_input)
        {
            return Err(CliError::Input(format!(
                "{}: {flag} names {what}; writing there would destroy it. Name another file",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Temporary files being written, removed by the signal handler.
static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary file registered for removal on SIGINT, SIGTERM and SIGHUP for
/// as long as this guard lives.
struct TempFile(PathBuf);

impl TempFile {
    fn register(path: PathBuf) -> TempFile {
        static HANDLER: std::sync::Once = std::sync::Once::new();
        HANDLER.call_once(|| {
            // Without a handler (it cannot be installed) a signal leaves the file behind, as before.
            let _ = ctrlc::set_handler(|| {
                if let Ok(files) = TEMP_FILES.lock() {
                    for file in files.iter() {
                        let _ = std::fs::remove_file(file);
                    }
                }
                // 128 + SIGINT, the shell's code for an interrupted command.
                std::process::exit(130);
            });
        });
        if let Ok(mut files) = TEMP_FILES.lock() {
            files.push(path.clone());
        }
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Ok(mut files) = TEMP_FILES.lock() {
            files.retain(|f| *f != self.0);
        }
    }
}

/// Ignores SIGXFSZ, which the kernel sends to a process that writes past
/// its file-size limit (`ulimit -f`) and which by default kills it, leaving
/// the temporary file behind; ignored, the write fails with EFBIG instead and
/// the file is removed like after any other failed write.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    {
        static IGNORED: std::sync::Once = std::sync::Once::new();
        // SAFETY: SIG_IGN for SIGXFSZ installs no handler code; it only
        // changes the signal's disposition, and is set once, before writing.
        IGNORED.call_once(|| unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        });
    }
}

/// An I/O error in words, without Rust's "(os error 2)" suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder; check the path".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a folder, not a file".into(),
        std::io::ErrorKind::FileTooLarge => {
            "the file would be larger than the file-size limit (ulimit -f) or the file system allows".into()
        }
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
/// standard output: the one place where `--format` is applied. JSON gets
/// the run's provenance, with its `input`, as its last member.
pub fn emit_report<R: Report + serde::Serialize + ?Sized>(
    path: Option<&Path>,
    format: Format,
    report: &R,
    input: Option<&InputProvenance>,
) -> Result<(), CliError> {
    match format {
        Format::Json => {
            let with = super::provenance::WithProvenance::new(report, input);
            emit_with(path, |w| tau_core::report::json::write_json(w, &with))
        }
        _ => emit_with(path, |w| write_report(report, format, w)),
    }
}

/// Prints a note (what was read, and how) on standard error.
pub fn note(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "note: {message}");
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
