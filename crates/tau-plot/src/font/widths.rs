//! Text measurement from a width table: what the browser build measures
//! text with.
//!
//! In the browser the page's own fonts draw the SVG text, so tau-plot needs
//! the bundled faces only to measure it. A width table holds exactly what
//! [`Fonts::width`](super::Fonts::width) reads from a face (each character's
//! glyph and advance, and the `kern` pairs of glyphs), written by
//! `assets/fonts/metrics/make_widths.py`: about 24 KB a face instead of the
//! 410 KB face and a font parser. The layout is therefore the CLI's.

/// A face's width table (the layout is in `make_widths.py`).
pub struct Widths {
    units_per_em: f64,
    notdef: u16,
    /// (char: u32, glyph: u16, advance: u16) little-endian, sorted by char.
    chars: &'static [u8],
    /// (left: u16, right: u16, value: i16) little-endian, sorted by glyphs.
    kerns: &'static [u8],
}

const CHAR: usize = 8;
const KERN: usize = 6;

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

impl Widths {
    /// Reads a table; `None` when the bytes are not one (a broken build).
    pub fn parse(bytes: &'static [u8]) -> Option<Widths> {
        let header = bytes.get(..12)?;
        if &header[..4] != b"TAUW" {
            return None;
        }
        let chars_len = usize::try_from(u32_at(header, 8)).ok()?.checked_mul(CHAR)?;
        let chars = bytes.get(12..12 + chars_len)?;
        let rest = bytes.get(12 + chars_len..)?;
        let kerns_len = usize::try_from(u32_at(rest.get(..4)?, 0))
            .ok()?
            .checked_mul(KERN)?;
        Some(Widths {
            units_per_em: f64::from(u16_at(header, 4)),
            notdef: u16_at(header, 6),
            chars,
            kerns: rest.get(4..4 + kerns_len)?,
        })
    }

    /// The glyph and advance of `c` (glyph 0, `.notdef`, when the face lacks it).
    fn glyph(&self, c: char) -> (u16, u16) {
        let (mut low, mut high) = (0, self.chars.len() / CHAR);
        while low < high {
            let mid = (low + high) / 2;
            let at = mid * CHAR;
            match u32_at(self.chars, at).cmp(&u32::from(c)) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => {
                    return (u16_at(self.chars, at + 4), u16_at(self.chars, at + 6));
                }
            }
        }
        (0, self.notdef)
    }

    /// The kerning of the glyph pair (`left`, `right`), in font units.
    fn kern(&self, left: u16, right: u16) -> i16 {
        let key = (u32::from(left) << 16) | u32::from(right);
        let (mut low, mut high) = (0, self.kerns.len() / KERN);
        while low < high {
            let mid = (low + high) / 2;
            let at = mid * KERN;
            let here =
                (u32::from(u16_at(self.kerns, at)) << 16) | u32::from(u16_at(self.kerns, at + 2));
            match here.cmp(&key) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return u16_at(self.kerns, at + 4) as i16,
            }
        }
        0
    }

    /// The advance width of `text` at `size` px with pair kerning, as
    /// [`Fonts::width`](super::Fonts::width) measures it with the face.
    pub fn width(&self, text: &str, size: f64) -> f64 {
        let mut units = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let (glyph, advance) = self.glyph(c);
            if let Some(previous) = previous {
                units += f64::from(self.kern(previous, glyph));
            }
            units += f64::from(advance);
            previous = Some(glyph);
        }
        units * size / self.units_per_em
    }
}
