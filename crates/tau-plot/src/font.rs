//! The bundled font and text measurement.
//!
//! Plots use Liberation Sans 2.1.5 (SIL Open Font License 1.1; the files and
//! the licence are in `assets/fonts/`). It is compiled into the binary, and
//! both the layout (which measures every string) and the PNG/PDF renderers
//! read the same bytes, so output does not depend on a machine's fonts.

#[cfg(not(target_arch = "wasm32"))]
use ab_glyph::{Font, FontRef};

use super::PlotError;

/// The family name of the bundled font (what plotters and the renderers look up).
pub const FAMILY: &str = "Liberation Sans";

/// The `font-family` written into SVG files: the bundled font, then metric-
/// compatible and generic fallbacks, so an SVG opened on a machine without
/// Liberation Sans still renders sensibly.
pub const SVG_FAMILY: &str = "Liberation Sans, Arial, Helvetica, sans-serif";

/// `svg` (written by plotters, which names the font as it looked it up) with
/// every `font-family` naming [`SVG_FAMILY`].
pub fn with_fallback_fonts(svg: String) -> String {
    svg.replace(
        &format!("font-family=\"{FAMILY}\""),
        &format!("font-family=\"{SVG_FAMILY}\""),
    )
}

/// Liberation Sans Regular.
#[cfg(not(target_arch = "wasm32"))]
pub static REGULAR: &[u8] = include_bytes!("../assets/fonts/LiberationSans-Regular.ttf");

/// Liberation Sans Bold.
#[cfg(not(target_arch = "wasm32"))]
pub static BOLD: &[u8] = include_bytes!("../assets/fonts/LiberationSans-Bold.ttf");

pub mod widths;

/// Liberation Sans Regular's width table ([`widths`]): in the browser the
/// page's fonts draw the SVG text and tau-plot only measures it, so the
/// engine carries 24 KB instead of the 410 KB face and a font parser.
#[cfg(target_arch = "wasm32")]
static REGULAR_WIDTHS: &[u8] =
    include_bytes!("../assets/fonts/metrics/LiberationSans-Regular.widths");

/// Liberation Sans Bold's width table.
#[cfg(target_arch = "wasm32")]
static BOLD_WIDTHS: &[u8] = include_bytes!("../assets/fonts/metrics/LiberationSans-Bold.widths");

// The browser build embeds no outlines, so it cannot draw text into pixels.
#[cfg(all(target_arch = "wasm32", feature = "raster"))]
compile_error!(
    "tau-plot's `raster` feature needs the font outlines, which the wasm32 build leaves out"
);

/// Regular or bold text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// Regular.
    Regular,
    /// Bold.
    Bold,
}

/// The bundled faces, parsed, for measuring text.
#[cfg(not(target_arch = "wasm32"))]
pub struct Fonts {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

#[cfg(not(target_arch = "wasm32"))]
impl Fonts {
    /// Parses the bundled faces.
    pub fn load() -> Result<Fonts, PlotError> {
        let parse =
            |bytes: &'static [u8]| FontRef::try_from_slice(bytes).map_err(|_| PlotError::Font);
        Ok(Fonts {
            regular: parse(REGULAR)?,
            bold: parse(BOLD)?,
        })
    }

    /// The advance width of `text` at `size` px (the em size, as SVG's
    /// `font-size`), with the font's pair kerning.
    pub fn width(&self, text: &str, size: f64, weight: Weight) -> f64 {
        let font = match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        };
        let units_per_em = f64::from(font.units_per_em().unwrap_or(2048.0));
        let mut units = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let glyph = font.glyph_id(c);
            if let Some(previous) = previous {
                units += f64::from(font.kern_unscaled(previous, glyph));
            }
            units += f64::from(font.h_advance_unscaled(glyph));
            previous = Some(glyph);
        }
        units * size / units_per_em
    }
}

/// The bundled faces' width tables, for measuring text (the browser build).
#[cfg(target_arch = "wasm32")]
pub struct Fonts {
    regular: widths::Widths,
    bold: widths::Widths,
}

#[cfg(target_arch = "wasm32")]
impl Fonts {
    /// Reads the bundled width tables.
    pub fn load() -> Result<Fonts, PlotError> {
        let parse = |bytes: &'static [u8]| widths::Widths::parse(bytes).ok_or(PlotError::Font);
        Ok(Fonts {
            regular: parse(REGULAR_WIDTHS)?,
            bold: parse(BOLD_WIDTHS)?,
        })
    }

    /// The advance width of `text` at `size` px, as the faces measure it.
    pub fn width(&self, text: &str, size: f64, weight: Weight) -> f64 {
        match weight {
            Weight::Regular => self.regular.width(text, size),
            Weight::Bold => self.bold.width(text, size),
        }
    }
}

/// Registers the bundled font with plotters, under its own family name and as
/// "sans-serif", so every plotters text (funnel, bubble, leave-one-out and
/// Baujat plots) measures and names the same font on every machine.
///
/// plotters has no font registry on wasm32 and WASI (in a browser it measures
/// text with the page's canvas), so there this does nothing.
pub fn register_with_plotters() {
    #[cfg(not(any(target_arch = "wasm32", target_os = "wasi")))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // Cannot fail for the bundled font; the SVG names the family either way.
            for family in [FAMILY, "sans-serif"] {
                let _ = plotters::style::register_font(
                    family,
                    plotters::style::FontStyle::Normal,
                    REGULAR,
                );
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_font_covers_the_symbols_plots_use() {
        let fonts = Fonts::load().unwrap();
        for c in "τ²χ−–←→≥≤·".chars() {
            assert_ne!(fonts.regular.glyph_id(c).0, 0, "regular lacks {c}");
            assert_ne!(fonts.bold.glyph_id(c).0, 0, "bold lacks {c}");
        }
    }

    #[test]
    fn the_browser_width_tables_measure_as_the_full_faces() {
        let pairs = [
            (
                REGULAR,
                &include_bytes!("../assets/fonts/metrics/LiberationSans-Regular.widths")[..],
                Weight::Regular,
            ),
            (
                BOLD,
                &include_bytes!("../assets/fonts/metrics/LiberationSans-Bold.widths")[..],
                Weight::Bold,
            ),
        ];
        let fonts = Fonts::load().unwrap();
        for (full, table, weight) in pairs {
            let full = FontRef::try_from_slice(full).unwrap();
            let table = widths::Widths::parse(table).unwrap();
            let chars: Vec<char> = full.codepoint_ids().map(|(_, c)| c).collect();
            assert!(chars.len() > 2000, "{} characters", chars.len());
            // Every character alone, and every pair of the printable ASCII and
            // Latin-1 characters (each kerning pair among them).
            for &c in chars.iter().chain(['中', '\u{10FFFF}'].iter()) {
                let text = c.to_string();
                assert_eq!(
                    table.width(&text, 2048.0),
                    fonts.width(&text, 2048.0, weight),
                    "{c:?}"
                );
            }
            let latin: Vec<char> = chars
                .iter()
                .copied()
                .filter(|c| (' '..='ÿ').contains(c))
                .collect();
            for &a in &latin {
                for &b in &latin {
                    let text: String = [a, b].into_iter().collect();
                    assert_eq!(
                        table.width(&text, 13.0),
                        fonts.width(&text, 13.0, weight),
                        "{text:?}"
                    );
                }
            }
            let label = "Bjørknes and Manger 2013 (PB) −0.16 τ² ≥ 95% CI";
            assert_eq!(table.width(label, 11.0), fonts.width(label, 11.0, weight));
        }
    }

    #[test]
    fn widths_grow_with_text_and_size() {
        let fonts = Fonts::load().unwrap();
        let short = fonts.width("Aronson", 12.0, Weight::Regular);
        let long = fonts.width("Aronson 1948", 12.0, Weight::Regular);
        assert!(short > 30.0 && long > short);
        let bold = fonts.width("Aronson 1948", 12.0, Weight::Bold);
        assert!(bold > long);
        let double = fonts.width("Aronson 1948", 24.0, Weight::Regular);
        assert!((double - 2.0 * long).abs() < 1e-9);
        // Liberation Sans digits are tabular: all the same width.
        assert!(
            (fonts.width("0", 10.0, Weight::Regular) - fonts.width("8", 10.0, Weight::Regular))
                .abs()
                < 1e-9
        );
    }
}
