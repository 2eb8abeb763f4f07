//! Flags and file writing shared by the plotting subcommands: every figure
//! goes through [`tau_plot::render()`], as SVG, PNG or PDF by the extension.

use std::path::{Path, PathBuf};

use clap::Args;

use super::CliError;
use super::output::write_atomic;
use tau_core::ErrorKind;
use tau_plot::{ImageFormat, PlotError, render};

/// The PNG resolution of plots whose command has no `--dpi` flag.
pub const DEFAULT_DPI: f64 = 300.0;

// Where a plot goes.
#[derive(Debug, Clone, Args)]
pub struct PlotOutputArgs {
    /// Output file: .svg, .png or .pdf (the extension decides the format).
    /// Written only once the plot is complete.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Resolution of PNG output in dots per inch.
    #[arg(long, default_value_t = DEFAULT_DPI)]
    pub dpi: f64,
}

impl PlotOutputArgs {
    /// The format the file name asks for; checked before any work is done.
    pub fn format(&self) -> Result<ImageFormat, CliError> {
        plot_format(&self.output)
    }

    /// Renders the SVG in the requested format and writes it atomically.
    pub fn write(&self, svg: &str) -> Result<(), CliError> {
        write_plot(&self.output, svg, self.dpi)
    }
}

/// The format a plot file's name asks for (exit 2 for any other extension).
pub fn plot_format(path: &Path) -> Result<ImageFormat, CliError> {
    path.extension()
        .and_then(|e| e.to_str())
        .and_then(ImageFormat::from_extension)
        .ok_or_else(|| {
            CliError::Input(format!(
                "{}: a plot file must end in {}",
                path.display(),
                ImageFormat::EXTENSIONS
            ))
        })
}

/// Renders `svg` in the format `path` asks for and writes it atomically; PNGs
/// at `dpi`, lowered (with a warning) where the image would be too large.
pub fn write_plot(path: &Path, svg: &str, dpi: f64) -> Result<(), CliError> {
    let format = plot_format(path)?;
    let rendered = render(svg, format, dpi)
        .map_err(|e| CliError::from(e).with_file(&path.display().to_string()))?;
    if let Some(used) = rendered.dpi
        && used < dpi - 0.5
    {
        super::output::warn(&format!(
            "{}: drawn at {:.0} dpi instead of {} to stay under {:.0} megapixels; use .svg or .pdf for full resolution",
            path.display(),
            used.floor(),
            dpi,
            tau_plot::render::MAX_PNG_PIXELS / 1e6
        ));
    }
    write_atomic(path, &rendered.bytes)
}

impl From<PlotError> for CliError {
    fn from(e: PlotError) -> Self {
        match e.kind() {
            ErrorKind::Input => CliError::Input(e.to_string()),
            _ => CliError::Analysis(e.to_string()),
        }
    }
}
