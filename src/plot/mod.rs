//! Figures, drawn with plotters as SVG text (the library writes no files).

pub mod bubble;
