//! A small SVG writer: exactly the elements the plots need, with
//! coordinates rounded to 0.01 px so that the output is deterministic and
//! compact. Every element can carry a `class`, which tests and stylesheets
//! use to find the parts of a plot.

use super::font::{SVG_FAMILY, Weight};

/// Horizontal text alignment (SVG `text-anchor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// Text starts at x.
    Start,
    /// Text is centred on x.
    Middle,
    /// Text ends at x.
    End,
}

/// How a piece of text is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextStyle {
    /// Font size (em) in px.
    pub size: f64,
    /// Regular or bold.
    pub weight: Weight,
    /// Alignment.
    pub anchor: Anchor,
    /// Colour.
    pub fill: &'static str,
}

/// How a line is stroked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stroke {
    /// Colour.
    pub color: &'static str,
    /// Width in px.
    pub width: f64,
    /// SVG dash pattern, e.g. "4 3".
    pub dash: Option<&'static str>,
}

/// Formats a coordinate: at most two decimals, no trailing zeros, no "-0".
pub fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

fn class_attr(class: Option<&str>) -> String {
    class
        .map(|c| format!(" class=\"{}\"", escape(c)))
        .unwrap_or_default()
}

fn stroke_attrs(stroke: &Stroke) -> String {
    let mut out = format!(
        " stroke=\"{}\" stroke-width=\"{}\"",
        stroke.color,
        num(stroke.width)
    );
    if let Some(dash) = stroke.dash {
        out.push_str(&format!(" stroke-dasharray=\"{dash}\""));
    }
    out
}

/// An SVG document being written.
pub struct SvgWriter {
    out: String,
    depth: usize,
}

impl SvgWriter {
    /// Starts a `width` × `height` px document on a white background.
    pub fn new(width: f64, height: f64, title: Option<&str>) -> SvgWriter {
        let (w, h) = (num(width), num(height));
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"{SVG_FAMILY}\">\n"
        );
        if let Some(title) = title {
            out.push_str(&format!("<title>{}</title>\n", escape(title)));
        }
        out.push_str(&format!(
            "<rect class=\"background\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n"
        ));
        SvgWriter { out, depth: 0 }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push(' ');
        }
    }

    /// Opens a group.
    pub fn open(&mut self, class: &str) {
        self.indent();
        self.out
            .push_str(&format!("<g{}>\n", class_attr(Some(class))));
        self.depth += 1;
    }

    /// Closes the innermost group.
    pub fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</g>\n");
    }

    /// Text with its baseline at `y`.
    pub fn text(&mut self, x: f64, y: f64, text: &str, style: &TextStyle, class: Option<&str>) {
        let anchor = match style.anchor {
            Anchor::Start => "",
            Anchor::Middle => " text-anchor=\"middle\"",
            Anchor::End => " text-anchor=\"end\"",
        };
        let weight = match style.weight {
            Weight::Regular => "",
            Weight::Bold => " font-weight=\"bold\"",
        };
        let fill = if style.fill == "#000000" {
            String::new()
        } else {
            format!(" fill=\"{}\"", style.fill)
        };
        self.indent();
        self.out.push_str(&format!(
            "<text{} x=\"{}\" y=\"{}\" font-size=\"{}\"{anchor}{weight}{fill}>{}</text>\n",
            class_attr(class),
            num(x),
            num(y),
            num(style.size),
            escape(text)
        ));
    }

    /// A straight line.
    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &Stroke, class: Option<&str>) {
        self.indent();
        self.out.push_str(&format!(
            "<line{} x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"{}/>\n",
            class_attr(class),
            num(from.0),
            num(from.1),
            num(to.0),
            num(to.1),
            stroke_attrs(stroke)
        ));
    }

    /// A filled rectangle with its top-left corner at (`x`, `y`).
    pub fn rect(
        &mut self,
        (x, y): (f64, f64),
        (width, height): (f64, f64),
        fill: &str,
        stroke: Option<&Stroke>,
        class: Option<&str>,
    ) {
        self.indent();
        self.out.push_str(&format!(
            "<rect{} x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"{}/>\n",
            class_attr(class),
            num(x),
            num(y),
            num(width),
            num(height),
            stroke.map(stroke_attrs).unwrap_or_default()
        ));
    }

    /// A closed polygon.
    pub fn polygon(
        &mut self,
        points: &[(f64, f64)],
        fill: &str,
        stroke: Option<&Stroke>,
        class: Option<&str>,
    ) {
        let points: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", num(*x), num(*y)))
            .collect();
        self.indent();
        self.out.push_str(&format!(
            "<polygon{} points=\"{}\" fill=\"{fill}\"{}/>\n",
            class_attr(class),
            points.join(" "),
            stroke.map(stroke_attrs).unwrap_or_default()
        ));
    }

    /// Ends the document.
    pub fn finish(mut self) -> String {
        while self.depth > 0 {
            self.close();
        }
        self.out.push_str("</svg>\n");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(1.239), "1.24");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(-2.1), "-2.1");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("Ferguson & Simes <1949> \"x\""),
            "Ferguson &amp; Simes &lt;1949&gt; &quot;x&quot;"
        );
    }
}
