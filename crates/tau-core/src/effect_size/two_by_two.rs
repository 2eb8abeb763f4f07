//! One study's 2×2 table and the per-study quantities read from it alone:
//! the ground floor of the tables' models (Mantel-Haenszel, Peto) and of
//! the `PETO` measure.

/// One study's 2×2 table: events and non-events in group 1 (`a`, `b`) and
/// group 2 (`c`, `d`), as metafor's `ai, bi, ci, di`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Table {
    /// Events in group 1.
    pub a: f64,
    /// Non-events in group 1.
    pub b: f64,
    /// Events in group 2.
    pub c: f64,
    /// Non-events in group 2.
    pub d: f64,
}

impl Table {
    /// Size of group 1.
    pub fn n1(&self) -> f64 {
        self.a + self.b
    }

    /// Size of group 2.
    pub fn n2(&self) -> f64 {
        self.c + self.d
    }

    /// Total size.
    pub fn n(&self) -> f64 {
        self.a + self.b + self.c + self.d
    }

    /// No events in either group, or no non-events in either group: the table
    /// says nothing about the odds ratio (metafor's `drop00`).
    pub fn is_double_zero(&self) -> bool {
        (self.a == 0.0 && self.c == 0.0) || (self.b == 0.0 && self.d == 0.0)
    }
}

/// Observed minus expected events in group 1, and the variance Vᵢ.
pub(crate) fn observed_minus_expected(t: &Table) -> (f64, f64) {
    let (xt, yt) = (t.a + t.c, t.b + t.d);
    let expected = xt * t.n1() / t.n();
    let variance = xt * yt * (t.n1() / t.n()) * (t.n2() / t.n()) / (t.n() - 1.0);
    (t.a - expected, variance)
}

/// One table's Peto log odds ratio (aᵢ − Eᵢ)/Vᵢ and its variance 1/Vᵢ, with
/// 1/2 added to every cell of a table with a zero cell (metafor
/// `escalc("PETO")` with `add = 1/2, to = "only0"`).
pub fn study_log_odds_ratio(t: &Table) -> (f64, f64) {
    let t = if [t.a, t.b, t.c, t.d].contains(&0.0) {
        Table {
            a: t.a + 0.5,
            b: t.b + 0.5,
            c: t.c + 0.5,
            d: t.d + 0.5,
        }
    } else {
        *t
    };
    let (oe, v) = observed_minus_expected(&t);
    (oe / v, 1.0 / v)
}
