//! The last steps to a GLMM's maximum. BFGS stops where the objective
//! changes by less than its relative tolerance, which can leave a small τ
//! a few 1e-4 (relative) short; Newton's method on the objective's
//! central-difference gradient and Richardson-extrapolated Hessian takes
//! it the rest of the way (steps halved while they do not lower it).

use crate::numerics::hessian::hessian;

/// Step of the central differences of the gradient, relative to |x| + 1.
const H: f64 = 1e-5;

/// Minimises `f` from `x` by at most 8 Newton steps; returns the point.
pub(crate) fn newton_polish<E>(f: &mut dyn FnMut(&[f64]) -> Result<f64, E>, x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut x = x.to_vec();
    let Ok(mut value) = f(&x) else {
        return x;
    };
    for _ in 0..8 {
        let mut gradient = vec![0.0; n];
        let mut point = x.clone();
        for i in 0..n {
            let h = H * (x[i].abs() + 1.0);
            point[i] = x[i] + h;
            let up = f(&point);
            point[i] = x[i] - h;
            let down = f(&point);
            point[i] = x[i];
            match (up, down) {
                (Ok(u), Ok(d)) => gradient[i] = (u - d) / (2.0 * h),
                _ => return x,
            }
        }
        let wanted: Vec<usize> = (0..n).collect();
        let Ok(h) = hessian(f, &x, &wanted) else {
            return x;
        };
        let Some(mut step) = solve(&h, &gradient) else {
            return x;
        };
        let mut improved = false;
        for _ in 0..20 {
            let next: Vec<f64> = x.iter().zip(&step).map(|(a, s)| a - s).collect();
            if let Ok(v) = f(&next)
                && v <= value
            {
                let moved = step
                    .iter()
                    .zip(&x)
                    .all(|(s, a)| s.abs() <= 1e-12 * (a.abs() + 1.0));
                x = next;
                value = v;
                improved = !moved;
                break;
            }
            step.iter_mut().for_each(|s| *s *= 0.5);
        }
        if !improved {
            break;
        }
    }
    x
}

/// Solves the symmetric positive-definite system h s = g by Cholesky;
/// `None` where h is not positive definite.
fn solve(h: &[Vec<f64>], g: &[f64]) -> Option<Vec<f64>> {
    let n = g.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = h[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if i == j {
                if s.is_nan() || s <= 0.0 {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        y[i] = (g[i] - (0..i).map(|k| l[i][k] * y[k]).sum::<f64>()) / l[i][i];
    }
    let mut s = vec![0.0; n];
    for i in (0..n).rev() {
        s[i] = (y[i] - (i + 1..n).map(|k| l[k][i] * s[k]).sum::<f64>()) / l[i][i];
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_positive_definite_system() {
        let h = vec![vec![4.0, 1.0], vec![1.0, 3.0]];
        let s = solve(&h, &[1.0, 2.0]).unwrap();
        assert!((4.0 * s[0] + s[1] - 1.0).abs() < 1e-14);
        assert!((s[0] + 3.0 * s[1] - 2.0).abs() < 1e-14);
        assert!(solve(&[vec![1.0, 2.0], vec![2.0, 1.0]], &[1.0, 1.0]).is_none());
    }

    #[test]
    fn reaches_the_minimum_of_a_quadratic() {
        let mut f = |x: &[f64]| -> Result<f64, ()> {
            Ok((x[0] - 1.0).powi(2) + 2.0 * (x[1] + 0.5).powi(2) + x[0] * x[1])
        };
        // Minimum where 2(x0 - 1) + x1 = 0 and 4(x1 + 0.5) + x0 = 0.
        let x = newton_polish(&mut f, &[0.9, -0.4]);
        assert!((2.0 * (x[0] - 1.0) + x[1]).abs() < 1e-8, "{x:?}");
        assert!((4.0 * (x[1] + 0.5) + x[0]).abs() < 1e-8, "{x:?}");
    }
}
