//! From the SVG master to PNG (resvg) and PDF (svg2pdf).
//!
//! Both renderers parse the SVG with usvg against a font database that holds
//! only the bundled Liberation Sans faces ([`super::font`]), never system
//! fonts, so a plot looks the same on every machine. Both sit behind the
//! default feature `raster`; without it [`render()`] writes SVG only and
//! answers PNG and PDF with [`PlotError::NoRaster`].

#[cfg(feature = "raster")]
use std::sync::{Arc, OnceLock};

#[cfg(feature = "raster")]
use resvg::tiny_skia::{Color, Pixmap, Transform};
#[cfg(feature = "raster")]
use resvg::usvg::{self, fontdb};

use super::PlotError;
#[cfg(feature = "raster")]
use super::font::{BOLD, FAMILY, REGULAR};

/// SVG user units per inch (CSS px).
pub const SVG_DPI: f64 = 96.0;

/// The largest PNG tau renders, in pixels (about 200 MB of RGBA while drawing).
pub const MAX_PNG_PIXELS: f64 = 50e6;

/// The output formats of a plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// Scalable vector graphics: the master.
    Svg,
    /// A raster image.
    Png,
    /// A vector PDF with the font embedded (subset).
    Pdf,
}

impl ImageFormat {
    /// The format a file name asks for, by its extension (case-insensitive).
    pub fn from_extension(extension: &str) -> Option<ImageFormat> {
        match extension.to_ascii_lowercase().as_str() {
            "svg" => Some(ImageFormat::Svg),
            "png" => Some(ImageFormat::Png),
            "pdf" => Some(ImageFormat::Pdf),
            _ => None,
        }
    }

    /// The extensions [`ImageFormat::from_extension`] accepts, for messages.
    pub const EXTENSIONS: &'static str = ".svg, .png or .pdf";
}

/// A rendered image and the resolution it was rendered at.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// PNG resolution in dots per inch (`None` for SVG and PDF).
    pub dpi: Option<f64>,
}

/// Renders `svg` as `format`. PNGs are drawn at `dpi` (SVG px are 1/96 in),
/// lowered where needed to stay under [`MAX_PNG_PIXELS`]; [`Rendered::dpi`]
/// says which resolution was used.
pub fn render(svg: &str, format: ImageFormat, dpi: f64) -> Result<Rendered, PlotError> {
    match format {
        ImageFormat::Svg => Ok(Rendered {
            bytes: svg.as_bytes().to_vec(),
            dpi: None,
        }),
        #[cfg(feature = "raster")]
        ImageFormat::Png => to_png(svg, dpi),
        #[cfg(feature = "raster")]
        ImageFormat::Pdf => Ok(Rendered {
            bytes: to_pdf(svg)?,
            dpi: None,
        }),
        #[cfg(not(feature = "raster"))]
        ImageFormat::Png | ImageFormat::Pdf => {
            let _ = dpi;
            Err(PlotError::NoRaster)
        }
    }
}

#[cfg(feature = "raster")]
fn font_database() -> Arc<fontdb::Database> {
    static DATABASE: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    DATABASE
        .get_or_init(|| {
            let mut db = fontdb::Database::new();
            db.load_font_data(REGULAR.to_vec());
            db.load_font_data(BOLD.to_vec());
            db.set_sans_serif_family(FAMILY);
            Arc::new(db)
        })
        .clone()
}

#[cfg(feature = "raster")]
/// Parses an SVG with the bundled fonts.
pub fn parse(svg: &str) -> Result<usvg::Tree, PlotError> {
    let options = usvg::Options {
        font_family: FAMILY.into(),
        fontdb: font_database(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &options).map_err(|e| PlotError::Render(e.to_string()))
}

#[cfg(feature = "raster")]
fn to_png(svg: &str, dpi: f64) -> Result<Rendered, PlotError> {
    if !(dpi.is_finite() && dpi > 0.0) {
        return Err(PlotError::BadDpi(dpi));
    }
    let tree = parse(svg)?;
    let size = tree.size();
    let (width, height) = (f64::from(size.width()), f64::from(size.height()));
    let scale = png_scale(width, height, dpi);
    let pixels = |length: f64| (length * scale).ceil().max(1.0) as u32;
    let mut pixmap = Pixmap::new(pixels(width), pixels(height))
        .ok_or_else(|| PlotError::Render("the image is too large to rasterise".into()))?;
    pixmap.fill(Color::WHITE);
    let scale32 = scale as f32;
    resvg::render(
        &tree,
        Transform::from_scale(scale32, scale32),
        &mut pixmap.as_mut(),
    );
    let png = pixmap
        .encode_png()
        .map_err(|e| PlotError::Render(e.to_string()))?;
    let used = scale * SVG_DPI;
    Ok(Rendered {
        bytes: with_resolution(png, used),
        dpi: Some(used),
    })
}

#[cfg(feature = "raster")]
/// Pixels per SVG px for a `width` × `height` px image at `dpi`, lowered
/// where the image would exceed [`MAX_PNG_PIXELS`].
fn png_scale(width: f64, height: f64, dpi: f64) -> f64 {
    let scale = dpi / SVG_DPI;
    if width * height * scale * scale > MAX_PNG_PIXELS {
        (MAX_PNG_PIXELS / (width * height)).sqrt()
    } else {
        scale
    }
}

#[cfg(feature = "raster")]
fn to_pdf(svg: &str) -> Result<Vec<u8>, PlotError> {
    let tree = parse(svg)?;
    let page = svg2pdf::PageOptions {
        dpi: SVG_DPI as f32,
    };
    svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), page)
        .map_err(|e| PlotError::Render(e.to_string()))
}

#[cfg(feature = "raster")]
/// Inserts a pHYs chunk (pixels per metre) after the IHDR chunk, so that
/// viewers and journals read the intended resolution.
fn with_resolution(png: Vec<u8>, dpi: f64) -> Vec<u8> {
    const IHDR_END: usize = 8 + 25;
    if png.len() < IHDR_END || &png[12..16] != b"IHDR" {
        return png;
    }
    let per_metre = ((dpi / 0.0254).round() as u32).to_be_bytes();
    let mut chunk = Vec::with_capacity(21);
    chunk.extend_from_slice(&9u32.to_be_bytes());
    let mut body = b"pHYs".to_vec();
    body.extend_from_slice(&per_metre);
    body.extend_from_slice(&per_metre);
    body.push(1);
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32(&body).to_be_bytes());
    let mut out = Vec::with_capacity(png.len() + chunk.len());
    out.extend_from_slice(&png[..IHDR_END]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[IHDR_END..]);
    out
}

#[cfg(feature = "raster")]
/// The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(all(test, feature = "raster"))]
mod tests {
    use super::*;

    const SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"40\" viewBox=\"0 0 120 40\" font-family=\"Liberation Sans\"><text x=\"5\" y=\"25\" font-size=\"14\">τ² = 0.31</text></svg>";

    #[test]
    fn crc_matches_the_png_specification() {
        // The CRC of an IEND chunk's type is fixed by the PNG specification.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn png_has_the_requested_size_and_resolution() {
        let png = render(SVG, ImageFormat::Png, 192.0).unwrap();
        assert_eq!(&png.bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png.bytes[37..41], b"pHYs");
        let width = u32::from_be_bytes(png.bytes[16..20].try_into().unwrap());
        assert_eq!(width, 240);
        assert_eq!(png.dpi, Some(192.0));
    }

    #[test]
    fn text_is_drawn_with_the_bundled_font() {
        let tree = parse(SVG).unwrap();
        // usvg turns text it can shape into glyph outlines; with no font it would drop it.
        let bbox = tree.root().abs_bounding_box();
        assert!(bbox.width() > 40.0, "text was not shaped: {bbox:?}");
    }

    #[test]
    fn pdf_is_a_pdf() {
        let pdf = render(SVG, ImageFormat::Pdf, 300.0).unwrap();
        assert!(pdf.bytes.starts_with(b"%PDF-"));
        assert!(pdf.bytes.len() > 1000);
    }

    #[test]
    fn huge_images_are_rendered_at_a_lower_resolution() {
        assert_eq!(png_scale(1000.0, 2000.0, 192.0), 2.0);
        let scale = png_scale(1000.0, 20000.0, 300.0);
        assert!(scale < 300.0 / SVG_DPI);
        assert!((1000.0 * 20000.0 * scale * scale - MAX_PNG_PIXELS).abs() < 1.0);
    }
}

#[cfg(all(test, not(feature = "raster")))]
mod without_raster {
    use super::*;

    #[test]
    fn png_and_pdf_need_the_raster_feature() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>";
        assert_eq!(
            render(svg, ImageFormat::Svg, 300.0).unwrap().bytes,
            svg.as_bytes()
        );
        for format in [ImageFormat::Png, ImageFormat::Pdf] {
            let err = render(svg, format, 300.0).unwrap_err();
            assert_eq!(err, PlotError::NoRaster);
            assert_eq!(err.kind(), tau_core::ErrorKind::Input);
        }
    }
}
