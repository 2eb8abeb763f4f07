//! The Hessian as metafor's `selmodel` computes it: `numDeriv::hessian`
//! (Gilbert & Varadhan) with Richardson extrapolation over r = 6 halvings
//! of the initial step h = 0.1|x| (10⁻⁴ where x is near 0), on the natural
//! scale of (β, τ², δ).

const D: f64 = 0.1;
const EPS: f64 = 1e-4;
const R: usize = 6;

/// Richardson extrapolation of estimates computed with halving steps (numDeriv `genD`).
fn extrapolate(mut a: [f64; R]) -> f64 {
    for m in 1..R {
        let four = 4f64.powi(m as i32);
        for k in 0..R - m {
            a[k] = (a[k + 1] * four - a[k]) / (four - 1.0);
        }
    }
    a[0]
}

/// The Hessian of `f` at `x` in the rows and columns `wanted` (the other
/// entries stay 0; they are not needed and cost evaluations).
pub(crate) fn hessian<E>(
    f: &mut dyn FnMut(&[f64]) -> Result<f64, E>,
    x: &[f64],
    wanted: &[usize],
) -> Result<Vec<Vec<f64>>, E> {
    let n = x.len();
    let zero_tol = (f64::EPSILON / 7e-7).sqrt();
    let h0: Vec<f64> = x
        .iter()
        .map(|&xi| (D * xi).abs() + if xi.abs() < zero_tol { EPS } else { 0.0 })
        .collect();
    let f0 = f(x)?;
    let mut diag = vec![0.0; n];
    let mut point = x.to_vec();
    for &i in wanted {
        let mut h = h0[i];
        let mut approx = [0.0; R];
        for a in approx.iter_mut() {
            point[i] = x[i] + h;
            let f1 = f(&point)?;
            point[i] = x[i] - h;
            let f2 = f(&point)?;
            point[i] = x[i];
            *a = (f1 - 2.0 * f0 + f2) / (h * h);
            h /= 2.0;
        }
        diag[i] = extrapolate(approx);
    }
    let mut out = vec![vec![0.0; n]; n];
    for (a, &i) in wanted.iter().enumerate() {
        out[i][i] = diag[i];
        for &j in &wanted[..a] {
            let (mut hi, mut hj) = (h0[i], h0[j]);
            let mut approx = [0.0; R];
            for value in approx.iter_mut() {
                point[i] = x[i] + hi;
                point[j] = x[j] + hj;
                let f1 = f(&point)?;
                point[i] = x[i] - hi;
                point[j] = x[j] - hj;
                let f2 = f(&point)?;
                point[i] = x[i];
                point[j] = x[j];
                *value =
                    (f1 - 2.0 * f0 + f2 - diag[i] * hi * hi - diag[j] * hj * hj) / (2.0 * hi * hj);
                hi /= 2.0;
                hj /= 2.0;
            }
            let value = extrapolate(approx);
            out[i][j] = value;
            out[j][i] = value;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hessian_of_a_quadratic_form() {
        let mut f = |x: &[f64]| -> Result<f64, ()> {
            Ok(x[0] * x[0] * 3.0 + x[0] * x[1] + 2.0 * x[1] * x[1] + x[2])
        };
        let h = hessian(&mut f, &[0.5, -1.0, 2.0], &[0, 1]).unwrap();
        assert!((h[0][0] - 6.0).abs() < 1e-8 && (h[0][1] - 1.0).abs() < 1e-8);
        assert!((h[1][1] - 4.0).abs() < 1e-8 && h[2][2] == 0.0);
    }
}
