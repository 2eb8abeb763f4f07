//! Flags and file writing shared by the plotting subcommands.

use std::path::PathBuf;

use clap::Args;

use super::CliError;
use super::output::write_atomic;
use tau_plot::{ImageFormat, PlotError, render};

/// Where a plot goes.
#[derive(Debug, Clone, Args)]
pub struct PlotOutputArgs {
    /// Output file: .svg, .png or .pdf (the extension decides the format).
    /// Written only once the plot is complete.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Resolution of PNG output in dots per inch.
    #[arg(long, default_value_t = 300.0)]
    pub dpi: f64,
}

impl PlotOutputArgs {
    /// The format the file name asks for; checked before any work is done.
    pub fn format(&self) -> Result<ImageFormat, CliError> {
        self.output
            .extension()
            .and_then(|e| e.to_str())
            .and_then(ImageFormat::from_extension)
            .ok_or_else(|| {
                CliError::Input(format!(
                    "{}: the output file must end in .svg, .png or .pdf",
                    self.output.display()
                ))
            })
    }

    /// Renders the SVG in the requested format and writes it atomically.
    pub fn write(&self, svg: &str) -> Result<(), CliError> {
        let format = self.format()?;
        let rendered = render(svg, format, self.dpi).map_err(CliError::from)?;
        if let Some(dpi) = rendered.dpi
            && dpi < self.dpi - 0.5
        {
            super::output::warn(&format!(
                "{}: drawn at {:.0} dpi instead of {} to stay under {:.0} megapixels; use .svg or .pdf for full resolution",
                self.output.display(),
                dpi.floor(),
                self.dpi,
                tau_plot::render::MAX_PNG_PIXELS / 1e6
            ));
        }
        write_atomic(&self.output, &rendered.bytes)
    }
}

impl From<PlotError> for CliError {
    fn from(e: PlotError) -> Self {
        match e {
            PlotError::Fit(fit) => CliError::from(fit),
            PlotError::Subgroup { ref source, .. } => match CliError::from(source.clone()) {
                CliError::Input(_) => CliError::Input(e.to_string()),
                _ => CliError::Analysis(e.to_string()),
            },
            PlotError::Font | PlotError::Render(_) => CliError::Output(e.to_string()),
            _ => CliError::Input(e.to_string()),
        }
    }
}
