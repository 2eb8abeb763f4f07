//! The optimiser metafor's `selmodel` uses by default: R's `optim(method =
//! "BFGS")`, i.e. the variable-metric method `vmmin` of Nash (1990,
//! "Compact numerical methods for computers", Algorithm 21) with optim's
//! default control (maxit = 100, reltol = √ε, abstol = −∞) and its
//! central-difference gradient with steps 10⁻³. Following the same path
//! from the same start matters: with reltol = √ε the search stops where
//! the log-likelihood changes by less than about 10⁻⁸ relative, which
//! leaves the parameters about 10⁻⁵ short of the exact optimum.

/// Why the search stopped without an answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OptimFailure<E> {
    /// The objective failed (e.g. an integral).
    Objective(E),
    /// The objective is not finite at the start.
    InitialNotFinite,
    /// A finite-difference gradient is not finite.
    GradientNotFinite,
    /// maxit iterations without convergence (optim's `convergence = 1`).
    MaxIterations,
}

const MAXIT: usize = 100;
const NDEPS: f64 = 1e-3;
const STEPREDN: f64 = 0.2;
const ACCTOL: f64 = 0.0001;
const RELTEST: f64 = 10.0;

/// optim's numerical gradient (central differences, `ndeps` = 10⁻³).
fn gradient<E>(
    f: &mut dyn FnMut(&[f64]) -> Result<f64, E>,
    b: &[f64],
    g: &mut [f64],
) -> Result<(), OptimFailure<E>> {
    let mut x = b.to_vec();
    for i in 0..b.len() {
        x[i] = b[i] + NDEPS;
        let val1 = f(&x).map_err(OptimFailure::Objective)?;
        x[i] = b[i] - NDEPS;
        let val2 = f(&x).map_err(OptimFailure::Objective)?;
        g[i] = (val1 - val2) / (2.0 * NDEPS);
        if !g[i].is_finite() {
            return Err(OptimFailure::GradientNotFinite);
        }
        x[i] = b[i];
    }
    Ok(())
}

/// Minimises `f` from `b` as R's `optim(b, f, method = "BFGS")` does; returns the minimiser.
pub(crate) fn bfgs<E>(
    f: &mut dyn FnMut(&[f64]) -> Result<f64, E>,
    start: &[f64],
) -> Result<Vec<f64>, OptimFailure<E>> {
    bfgs_with(f, start, f64::EPSILON.sqrt(), MAXIT)
}

/// [`bfgs`] with optim's `control = list(reltol = reltol, maxit = maxit)`.
pub(crate) fn bfgs_with<E>(
    f: &mut dyn FnMut(&[f64]) -> Result<f64, E>,
    start: &[f64],
    reltol: f64,
    maxit: usize,
) -> Result<Vec<f64>, OptimFailure<E>> {
    let f = std::cell::RefCell::new(f);
    vmmin(
        &mut |b| (f.borrow_mut())(b).map_err(OptimFailure::Objective),
        &mut |b, g| gradient(*f.borrow_mut(), b, g),
        start,
        reltol,
        maxit,
    )
}

/// [`bfgs_with`] with the gradient given: `f` returns the value and the
/// gradient at a point (optim's `gr`).
pub(crate) fn bfgs_with_gradient<E>(
    f: &mut ValueGradient<'_, E>,
    start: &[f64],
    reltol: f64,
    maxit: usize,
) -> Result<Vec<f64>, OptimFailure<E>> {
    // vmmin asks for the gradient where it has just taken the value.
    let last: std::cell::RefCell<Option<(Vec<f64>, Vec<f64>)>> = std::cell::RefCell::new(None);
    let f = std::cell::RefCell::new(f);
    let mut evaluate = |b: &[f64]| -> Result<(f64, Vec<f64>), OptimFailure<E>> {
        let (value, g) = (f.borrow_mut())(b).map_err(OptimFailure::Objective)?;
        *last.borrow_mut() = Some((b.to_vec(), g.clone()));
        Ok((value, g))
    };
    let evaluate = std::cell::RefCell::new(&mut evaluate);
    vmmin(
        &mut |b| (evaluate.borrow_mut())(b).map(|(v, _)| v),
        &mut |b, g| {
            let cached = match &*last.borrow() {
                Some((at, grad)) if at.as_slice() == b => Some(grad.clone()),
                _ => None,
            };
            let grad = match cached {
                Some(grad) => grad,
                None => (evaluate.borrow_mut())(b)?.1,
            };
            if grad.iter().any(|v| !v.is_finite()) {
                return Err(OptimFailure::GradientNotFinite);
            }
            g.copy_from_slice(&grad);
            Ok(())
        },
        start,
        reltol,
        maxit,
    )
}

/// An objective that returns its value and gradient.
pub(crate) type ValueGradient<'a, E> = dyn FnMut(&[f64]) -> Result<(f64, Vec<f64>), E> + 'a;
type Value<'a, E> = dyn FnMut(&[f64]) -> Result<f64, OptimFailure<E>> + 'a;
type Gradient<'a, E> = dyn FnMut(&[f64], &mut [f64]) -> Result<(), OptimFailure<E>> + 'a;

/// Nash's variable-metric method (R's `vmmin`) with the gradient `gradient`.
fn vmmin<E>(
    f: &mut Value<'_, E>,
    gradient: &mut Gradient<'_, E>,
    start: &[f64],
    reltol: f64,
    maxit: usize,
) -> Result<Vec<f64>, OptimFailure<E>> {
    let abstol = f64::NEG_INFINITY;
    let n = start.len();
    let mut b = start.to_vec();
    let mut g = vec![0.0; n];
    let mut t = vec![0.0; n];
    let mut xs = vec![0.0; n];
    let mut c = vec![0.0; n];
    let mut bm = vec![vec![0.0; n]; n];
    let mut f_val = f(&b)?;
    if !f_val.is_finite() {
        return Err(OptimFailure::InitialNotFinite);
    }
    let mut fmin = f_val;
    let mut gradcount = 1usize;
    gradient(&b, &mut g)?;
    let mut iter = 1usize;
    let mut ilast = gradcount;
    let mut count;
    loop {
        if ilast == gradcount {
            for (i, row) in bm.iter_mut().enumerate() {
                for value in row.iter_mut().take(i) {
                    *value = 0.0;
                }
                row[i] = 1.0;
            }
        }
        xs.copy_from_slice(&b);
        c.copy_from_slice(&g);
        let mut gradproj = 0.0;
        for i in 0..n {
            let mut s = 0.0;
            for j in 0..=i {
                s -= bm[i][j] * g[j];
            }
            for j in i + 1..n {
                s -= bm[j][i] * g[j];
            }
            t[i] = s;
            gradproj += s * g[i];
        }
        if gradproj < 0.0 {
            let mut steplength = 1.0;
            let mut accpoint = false;
            loop {
                count = 0;
                for i in 0..n {
                    b[i] = xs[i] + steplength * t[i];
                    if RELTEST + xs[i] == RELTEST + b[i] {
                        count += 1;
                    }
                }
                if count < n {
                    f_val = f(&b)?;
                    accpoint = f_val.is_finite() && f_val <= fmin + gradproj * steplength * ACCTOL;
                    if !accpoint {
                        steplength *= STEPREDN;
                    }
                }
                if count == n || accpoint {
                    break;
                }
            }
            let enough = f_val > abstol && (f_val - fmin).abs() > reltol * (fmin.abs() + reltol);
            if !enough {
                count = n;
                fmin = f_val;
            }
            if count < n {
                fmin = f_val;
                gradient(&b, &mut g)?;
                gradcount += 1;
                iter += 1;
                let mut d1 = 0.0;
                for i in 0..n {
                    t[i] *= steplength;
                    c[i] = g[i] - c[i];
                    d1 += t[i] * c[i];
                }
                if d1 > 0.0 {
                    let mut d2 = 0.0;
                    for i in 0..n {
                        let mut s = 0.0;
                        for j in 0..=i {
                            s += bm[i][j] * c[j];
                        }
                        for j in i + 1..n {
                            s += bm[j][i] * c[j];
                        }
                        xs[i] = s;
                        d2 += s * c[i];
                    }
                    d2 = 1.0 + d2 / d1;
                    for i in 0..n {
                        for j in 0..=i {
                            bm[i][j] += (d2 * t[i] * t[j] - xs[i] * t[j] - t[i] * xs[j]) / d1;
                        }
                    }
                } else {
                    ilast = gradcount;
                }
            } else if ilast < gradcount {
                count = 0;
                ilast = gradcount;
            }
        } else {
            count = 0;
            if ilast == gradcount {
                count = n;
            } else {
                ilast = gradcount;
            }
        }
        if iter >= maxit {
            break;
        }
        if gradcount - ilast > 2 * n {
            ilast = gradcount;
        }
        if count == n && ilast == gradcount {
            break;
        }
    }
    if iter < maxit {
        Ok(b)
    } else {
        Err(OptimFailure::MaxIterations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_rosenbrock_as_optim_does() {
        // R: optim(c(-1.2, 1), fr, method = "BFGS")$par is 0.9998044 0.9996084.
        let mut f = |x: &[f64]| -> Result<f64, ()> {
            Ok(100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2))
        };
        let b = bfgs(&mut f, &[-1.2, 1.0]).unwrap();
        assert!(
            (b[0] - 0.9998044).abs() < 1e-7 && (b[1] - 0.9996084).abs() < 1e-7,
            "{b:?}"
        );
    }
}
