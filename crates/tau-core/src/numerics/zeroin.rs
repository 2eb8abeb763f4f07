//! Brent's root finder, step for step as R's `uniroot()` runs it.
//!
//! metafor finds the Paule-Mandel estimate and the Q-profile confidence limits
//! with `uniroot(..., tol = .Machine$double.eps^0.25)`, so its answers are only
//! accurate to about 1e-4. To reproduce its numbers rather than merely approach
//! them, tau takes the same steps: this is Brent's (1973) method, as in the
//! `zeroin` routine of R's `stats` package (after Forsythe, Malcolm & Moler 1977).

/// The tolerance metafor passes to `uniroot()`: `.Machine$double.eps^0.25`.
pub const R_UNIROOT_TOL: f64 = 1.220_703_125e-4;

/// Outcome of a root search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Root {
    /// The approximation to the root.
    pub x: f64,
    /// Function evaluations used, beyond the two at the ends of the bracket.
    pub iterations: usize,
    /// Half the width of the last bracket around the root: how far `x` may
    /// be from it (below the tolerance on success).
    pub precision: f64,
}

/// Finds a root of `f` in `[lower, upper]`, where `f(lower)` and `f(upper)`
/// have opposite signs (or one of them is 0).
///
/// Returns `Err` with the last approximation when `max_iter` steps do not
/// reach the tolerance.
pub fn zeroin(
    mut f: impl FnMut(f64) -> f64,
    lower: f64,
    upper: f64,
    f_lower: f64,
    f_upper: f64,
    tol: f64,
    max_iter: usize,
) -> Result<Root, Root> {
    let (mut a, mut b) = (lower, upper);
    let (mut fa, mut fb) = (f_lower, f_upper);
    let (mut c, mut fc) = (a, fa);
    if fa == 0.0 {
        return Ok(Root {
            x: a,
            iterations: 0,
            precision: 0.0,
        });
    }
    if fb == 0.0 {
        return Ok(Root {
            x: b,
            iterations: 0,
            precision: 0.0,
        });
    }
    for iteration in 0..=max_iter {
        let prev_step = b - a;
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol_act = 2.0 * f64::EPSILON * b.abs() + tol / 2.0;
        let mut new_step = (c - b) / 2.0;
        if new_step.abs() <= tol_act || fb == 0.0 {
            return Ok(Root {
                x: b,
                iterations: iteration,
                precision: new_step.abs(),
            });
        }
        if prev_step.abs() >= tol_act && fa.abs() > fb.abs() {
            let cb = c - b;
            let (mut p, mut q);
            if a == c {
                let t1 = fb / fa;
                p = cb * t1;
                q = 1.0 - t1;
            } else {
                let qa = fa / fc;
                let t1 = fb / fc;
                let t2 = fb / fa;
                p = t2 * (cb * qa * (qa - t1) - (b - a) * (t1 - 1.0));
                q = (qa - 1.0) * (t1 - 1.0) * (t2 - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if p < 0.75 * cb * q - (tol_act * q).abs() / 2.0 && p < (prev_step * q / 2.0).abs() {
                new_step = p / q;
            }
        }
        if new_step.abs() < tol_act {
            new_step = if new_step > 0.0 { tol_act } else { -tol_act };
        }
        a = b;
        fa = fb;
        b += new_step;
        fb = f(b);
        if (fb > 0.0 && fc > 0.0) || (fb < 0.0 && fc < 0.0) {
            c = a;
            fc = fa;
        }
    }
    Err(Root {
        x: b,
        iterations: max_iter,
        precision: ((c - b) / 2.0).abs(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_square_root_of_two() {
        let f = |x: f64| x * x - 2.0;
        let root = zeroin(f, 0.0, 2.0, f(0.0), f(2.0), 1e-12, 100).expect("converges");
        assert!((root.x - 2f64.sqrt()).abs() < 1e-11);
    }

    #[test]
    fn endpoint_root_is_returned_at_once() {
        let f = |x: f64| x - 1.0;
        let root = zeroin(f, 1.0, 3.0, 0.0, 2.0, 1e-8, 100).expect("root at end");
        assert_eq!(root.iterations, 0);
        assert!((root.x - 1.0).abs() < f64::EPSILON);
    }
}
