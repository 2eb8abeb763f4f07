//! ∫ f over the whole real line, as R's `integrate(f, -Inf, Inf)` computes
//! it: QUADPACK's `dqagi` (Piessens, de Doncker-Kapenga, Überhuber & Kahaner
//! 1983), i.e. the 15-point Gauss-Kronrod rule on the map x = (1 − t)/t of
//! (0, 1], adaptive bisection of the interval with the largest error, and
//! Wynn's ε-algorithm to extrapolate. metafor's `selmodel` integrates its
//! weighted densities this way with R's default tolerances (relative and
//! absolute 1.22e-4, 100 subdivisions); those tolerances are loose, so the
//! integral depends on the exact subdivision, and only the same algorithm
//! reproduces metafor's likelihood, and its Hessian, to many digits.

/// Why R's `integrate` would stop with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrationFailure {
    /// The integrand was not finite somewhere.
    NonFinite,
    /// QUADPACK's error code `ier` (1 to 5, after dqagi's renumbering).
    Code(u8),
}

impl IntegrationFailure {
    /// R's message for the failure.
    pub fn message(self) -> &'static str {
        match self {
            IntegrationFailure::NonFinite => "non-finite function value",
            IntegrationFailure::Code(1) => "maximum number of subdivisions reached",
            IntegrationFailure::Code(2) => "roundoff error was detected",
            IntegrationFailure::Code(3) => "extremely bad integrand behaviour",
            IntegrationFailure::Code(4) => "roundoff error is detected in the extrapolation table",
            IntegrationFailure::Code(5) => "the integral is probably divergent",
            IntegrationFailure::Code(_) => "the input is invalid",
        }
    }
}

// The nodes and weights with QUADPACK's published digits, rounded to double
// by the compiler as R's C compiler rounds them.
#[allow(clippy::excessive_precision)]
pub(crate) const XGK: [f64; 8] = [
    0.991_455_371_120_812_639_206_854_697_526_329,
    0.949_107_912_342_758_524_526_189_684_047_851,
    0.864_864_423_359_769_072_789_712_788_640_926,
    0.741_531_185_599_394_439_863_864_773_280_788,
    0.586_087_235_467_691_130_294_144_845_693_013,
    0.405_845_151_377_397_166_906_606_412_076_961,
    0.207_784_955_007_898_467_600_689_403_773_245,
    0.0,
];
#[allow(clippy::excessive_precision)]
pub(crate) const WGK: [f64; 8] = [
    0.022_935_322_010_529_224_963_732_008_058_970,
    0.063_092_092_629_978_553_290_700_663_189_204,
    0.104_790_010_322_250_183_839_876_322_541_518,
    0.140_653_259_715_525_918_745_189_590_510_238,
    0.169_004_726_639_267_902_826_583_426_598_550,
    0.190_350_578_064_785_409_913_256_402_421_014,
    0.204_432_940_075_298_892_414_161_999_234_649,
    0.209_482_141_084_727_828_012_999_174_891_714,
];
#[allow(clippy::excessive_precision)]
pub(crate) const WG: [f64; 8] = [
    0.0,
    0.129_484_966_168_869_693_270_611_432_679_082,
    0.0,
    0.279_705_391_489_276_667_901_467_771_423_780,
    0.0,
    0.381_830_050_505_118_944_950_369_775_488_975,
    0.0,
    0.417_959_183_673_469_387_755_102_040_816_327,
];

/// One application of the transformed 15-point rule on (a, b) ⊂ (0, 1].
struct Rule {
    result: f64,
    abserr: f64,
    resabs: f64,
    resasc: f64,
}

/// `dqk15i` for `inf = 2` (both limits infinite, bound 0): f(x) + f(−x) at x = (1 − t)/t.
fn qk15i(f: &mut dyn FnMut(f64) -> f64, a: f64, b: f64) -> Result<Rule, IntegrationFailure> {
    let mut eval = |t: f64| -> Result<f64, IntegrationFailure> {
        let x = (1.0 - t) / t;
        let (u, v) = (f(x), f(-x));
        if !(u.is_finite() && v.is_finite()) {
            return Err(IntegrationFailure::NonFinite);
        }
        Ok(((u + v) / t) / t)
    };
    let centr = 0.5 * (a + b);
    let hlgth = 0.5 * (b - a);
    let fc = eval(centr)?;
    let mut resg = WG[7] * fc;
    let mut resk = WGK[7] * fc;
    let mut resabs = resk.abs();
    let mut fv1 = [0.0; 7];
    let mut fv2 = [0.0; 7];
    for j in 0..7 {
        let absc = hlgth * XGK[j];
        let fval1 = eval(centr - absc)?;
        let fval2 = eval(centr + absc)?;
        fv1[j] = fval1;
        fv2[j] = fval2;
        let fsum = fval1 + fval2;
        resg += WG[j] * fsum;
        resk += WGK[j] * fsum;
        resabs += WGK[j] * (fval1.abs() + fval2.abs());
    }
    let reskh = resk * 0.5;
    let mut resasc = WGK[7] * (fc - reskh).abs();
    for j in 0..7 {
        resasc += WGK[j] * ((fv1[j] - reskh).abs() + (fv2[j] - reskh).abs());
    }
    let result = resk * hlgth;
    resasc *= hlgth;
    resabs *= hlgth;
    let mut abserr = ((resk - resg) * hlgth).abs();
    if resasc != 0.0 && abserr != 0.0 {
        abserr = resasc * (200.0 * abserr / resasc).powf(1.5).min(1.0);
    }
    if resabs > f64::MIN_POSITIVE / (50.0 * f64::EPSILON) {
        abserr = abserr.max(f64::EPSILON * 50.0 * resabs);
    }
    Ok(Rule {
        result,
        abserr,
        resabs,
        resasc,
    })
}

/// Wynn's ε-algorithm (`dqelg`); indices are QUADPACK's, from 1.
struct Epsilon {
    table: [f64; 53],
    n: usize,
    last3: [f64; 4],
    nres: usize,
}

impl Epsilon {
    fn extrapolate(&mut self) -> (f64, f64) {
        let (epmach, oflow) = (f64::EPSILON, f64::MAX);
        let e = &mut self.table;
        self.nres += 1;
        let mut abserr = oflow;
        let mut result = e[self.n];
        if self.n < 3 {
            return (result, abserr.max(5.0 * epmach * result.abs()));
        }
        let limexp = 50;
        e[self.n + 2] = e[self.n];
        let newelm = (self.n - 1) / 2;
        e[self.n] = oflow;
        let num = self.n;
        let mut k1 = self.n;
        let mut converged = false;
        for i in 1..=newelm {
            let k2 = k1 - 1;
            let k3 = k1 - 2;
            let res = e[k1 + 2];
            let (e0, e1, e2) = (e[k3], e[k2], res);
            let e1abs = e1.abs();
            let delta2 = e2 - e1;
            let err2 = delta2.abs();
            let tol2 = e2.abs().max(e1abs) * epmach;
            let delta3 = e1 - e0;
            let err3 = delta3.abs();
            let tol3 = e1abs.max(e0.abs()) * epmach;
            if err2 <= tol2 && err3 <= tol3 {
                result = res;
                abserr = err2 + err3;
                converged = true;
                break;
            }
            let e3 = e[k1];
            e[k1] = e1;
            let delta1 = e1 - e3;
            let err1 = delta1.abs();
            let tol1 = e1abs.max(e3.abs()) * epmach;
            let ss = 1.0 / delta1 + 1.0 / delta2 - 1.0 / delta3;
            let irregular = err1 <= tol1 || err2 <= tol2 || err3 <= tol3;
            // NaN goes this way too, as in dqelg's `if (epsinf > 1e-4)`.
            let sizeable = (ss * e1).abs() > 1e-4;
            if irregular || !sizeable {
                self.n = i + i - 1;
                break;
            }
            let res = e1 + 1.0 / ss;
            e[k1] = res;
            k1 -= 2;
            let error = err2 + (res - e2).abs() + err3;
            if error <= abserr {
                abserr = error;
                result = res;
            }
        }
        if !converged {
            if self.n == limexp {
                self.n = (limexp / 2) * 2 - 1;
            }
            let mut ib = if num.is_multiple_of(2) { 2 } else { 1 };
            for _ in 1..=newelm + 1 {
                e[ib] = e[ib + 2];
                ib += 2;
            }
            if num != self.n {
                let shift = num - self.n;
                for i in 1..=self.n {
                    e[i] = e[i + shift];
                }
            }
            if self.nres < 4 {
                self.last3[self.nres] = result;
                abserr = oflow;
            } else {
                abserr = (result - self.last3[3]).abs()
                    + (result - self.last3[2]).abs()
                    + (result - self.last3[1]).abs();
                self.last3[1] = self.last3[2];
                self.last3[2] = self.last3[3];
                self.last3[3] = result;
            }
        }
        (result, abserr.max(5.0 * epmach * result.abs()))
    }
}

/// `dqpsrt`: keeps `iord` listing the intervals by decreasing error.
fn sort_errors(
    limit: usize,
    last: usize,
    maxerr: &mut usize,
    elist: &[f64],
    iord: &mut [usize],
    nrmax: &mut usize,
) -> f64 {
    if last <= 2 {
        iord[1] = 1;
        iord[2] = 2;
    } else {
        let errmax = elist[*maxerr];
        if *nrmax != 1 {
            for _ in 1..*nrmax {
                let isucc = iord[*nrmax - 1];
                if errmax <= elist[isucc] {
                    break;
                }
                iord[*nrmax] = isucc;
                *nrmax -= 1;
            }
        }
        let jupbn = if last > limit / 2 + 2 {
            limit + 3 - last
        } else {
            last
        };
        let errmin = elist[last];
        let jbnd = jupbn - 1;
        let ibeg = *nrmax + 1;
        let mut found = None;
        for i in ibeg..=jbnd {
            let isucc = iord[i];
            if errmax >= elist[isucc] {
                found = Some(i);
                break;
            }
            iord[i - 1] = isucc;
        }
        match found {
            None => {
                iord[jbnd] = *maxerr;
                iord[jupbn] = last;
            }
            Some(i) => {
                iord[i - 1] = *maxerr;
                let mut k = jbnd;
                let mut placed = false;
                for _ in i..=jbnd {
                    let isucc = iord[k];
                    if errmin < elist[isucc] {
                        iord[k + 1] = last;
                        placed = true;
                        break;
                    }
                    iord[k + 1] = isucc;
                    k -= 1;
                }
                if !placed {
                    iord[i] = last;
                }
            }
        }
    }
    *maxerr = iord[*nrmax];
    elist[*maxerr]
}

/// ∫₋∞^∞ f(x) dx as R's `integrate(f, -Inf, Inf, rel.tol = tol, abs.tol = tol,
/// subdivisions = limit)` computes it (`dqagie` with `inf = 2`).
pub fn integrate_real_line(
    f: &mut dyn FnMut(f64) -> f64,
    tol: f64,
    limit: usize,
) -> Result<f64, IntegrationFailure> {
    let (epsabs, epsrel) = (tol, tol);
    let (epmach, uflow, oflow) = (f64::EPSILON, f64::MIN_POSITIVE, f64::MAX);
    if (epsabs <= 0.0 && epsrel < (50.0 * epmach).max(0.5e-28)) || limit < 1 {
        return Err(IntegrationFailure::Code(6));
    }
    let n = limit + 1;
    let (mut alist, mut blist, mut rlist, mut elist) =
        (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut iord = vec![0usize; n + 2];
    alist[1] = 0.0;
    blist[1] = 1.0;
    let first = qk15i(f, 0.0, 1.0)?;
    let (mut result, mut abserr, defabs, resabs0) =
        (first.result, first.abserr, first.resabs, first.resasc);
    rlist[1] = result;
    elist[1] = abserr;
    iord[1] = 1;
    let dres = result.abs();
    let mut errbnd = epsabs.max(epsrel * dres);
    let mut ier = 0u8;
    if abserr <= 100.0 * epmach * defabs && abserr > errbnd {
        ier = 2;
    }
    if limit == 1 {
        ier = 1;
    }
    if ier != 0 || (abserr <= errbnd && abserr != resabs0) || abserr == 0.0 {
        return finish(ier, result);
    }

    let mut eps = Epsilon {
        table: [0.0; 53],
        n: 2,
        last3: [0.0; 4],
        nres: 0,
    };
    eps.table[1] = result;
    let mut errmax = abserr;
    let mut maxerr = 1;
    let mut area = result;
    let mut errsum = abserr;
    abserr = oflow;
    let mut nrmax = 1;
    let mut ktmin = 0;
    let mut extrap = false;
    let mut noext = false;
    let mut ierro = 0;
    let (mut iroff1, mut iroff2, mut iroff3) = (0, 0, 0);
    let ksgn: i32 = if dres >= (1.0 - 50.0 * epmach) * defabs {
        1
    } else {
        -1
    };
    let (mut small, mut erlarg, mut ertest, mut correc) = (0.0, 0.0, 0.0, 0.0);
    let mut summed = false;

    let mut last = 2;
    while last <= limit {
        let a1 = alist[maxerr];
        let b1 = 0.5 * (alist[maxerr] + blist[maxerr]);
        let a2 = b1;
        let b2 = blist[maxerr];
        let erlast = errmax;
        let left = qk15i(f, a1, b1)?;
        let right = qk15i(f, a2, b2)?;
        let (area1, error1, defab1) = (left.result, left.abserr, left.resasc);
        let (area2, error2, defab2) = (right.result, right.abserr, right.resasc);
        let area12 = area1 + area2;
        let erro12 = error1 + error2;
        errsum = errsum + erro12 - errmax;
        area = area + area12 - rlist[maxerr];
        if defab1 != error1 && defab2 != error2 {
            if (rlist[maxerr] - area12).abs() <= 1e-5 * area12.abs() && erro12 >= 0.99 * errmax {
                if extrap {
                    iroff2 += 1;
                } else {
                    iroff1 += 1;
                }
            }
            if last > 10 && erro12 > errmax {
                iroff3 += 1;
            }
        }
        rlist[maxerr] = area1;
        rlist[last] = area2;
        errbnd = epsabs.max(epsrel * area.abs());
        if iroff1 + iroff2 >= 10 || iroff3 >= 20 {
            ier = 2;
        }
        if iroff2 >= 5 {
            ierro = 3;
        }
        if last == limit {
            ier = 1;
        }
        if a1.abs().max(b2.abs()) <= (1.0 + 100.0 * epmach) * (a2.abs() + 1000.0 * uflow) {
            ier = 4;
        }
        if error2 > error1 {
            alist[maxerr] = a2;
            alist[last] = a1;
            blist[last] = b1;
            rlist[maxerr] = area2;
            rlist[last] = area1;
            elist[maxerr] = error2;
            elist[last] = error1;
        } else {
            alist[last] = a2;
            blist[maxerr] = b1;
            blist[last] = b2;
            elist[maxerr] = error1;
            elist[last] = error2;
        }
        errmax = sort_errors(limit, last, &mut maxerr, &elist, &mut iord, &mut nrmax);
        if errsum <= errbnd {
            summed = true;
            break;
        }
        if ier != 0 {
            break;
        }
        if last == 2 {
            small = 0.375;
            erlarg = errsum;
            ertest = errbnd;
            eps.table[2] = area;
            last += 1;
            continue;
        }
        if noext {
            last += 1;
            continue;
        }
        erlarg -= erlast;
        if (b1 - a1).abs() > small {
            erlarg += erro12;
        }
        if !extrap {
            if (blist[maxerr] - alist[maxerr]).abs() > small {
                last += 1;
                continue;
            }
            extrap = true;
            nrmax = 2;
        }
        let mut skip = false;
        if ierro != 3 && erlarg > ertest {
            let id = nrmax;
            let jupbnd = if last > limit / 2 + 2 {
                limit + 3 - last
            } else {
                last
            };
            for _ in id..=jupbnd {
                maxerr = iord[nrmax];
                errmax = elist[maxerr];
                if (blist[maxerr] - alist[maxerr]).abs() > small {
                    skip = true;
                    break;
                }
                nrmax += 1;
            }
        }
        if skip {
            last += 1;
            continue;
        }
        eps.n += 1;
        eps.table[eps.n] = area;
        let (reseps, abseps) = eps.extrapolate();
        ktmin += 1;
        if ktmin > 5 && abserr < errsum * 0.001 {
            ier = 5;
        }
        if abseps < abserr {
            ktmin = 0;
            abserr = abseps;
            result = reseps;
            correc = erlarg;
            ertest = epsabs.max(epsrel * reseps.abs());
            if abserr <= ertest {
                break;
            }
        }
        if eps.n == 1 {
            noext = true;
        }
        if ier == 5 {
            break;
        }
        maxerr = iord[1];
        errmax = elist[maxerr];
        nrmax = 1;
        extrap = false;
        small *= 0.5;
        erlarg = errsum;
        last += 1;
    }
    let last = last.min(limit);
    let sum = |rlist: &[f64]| rlist[1..=last].iter().sum::<f64>();
    if summed || abserr == oflow {
        return finish(ier, sum(&rlist));
    }
    // Label 100 of dqagie: choose between the extrapolated and the summed result.
    if ier + ierro != 0 {
        if ierro == 3 {
            abserr += correc;
        }
        if ier == 0 {
            ier = 3;
        }
        if result == 0.0 || area == 0.0 {
            if abserr > errsum {
                return finish(ier, sum(&rlist));
            }
            if area == 0.0 {
                return finish(ier, result);
            }
        } else if abserr / result.abs() > errsum / area.abs() {
            return finish(ier, sum(&rlist));
        }
    }
    if !(ksgn == -1 && result.abs().max(area.abs()) <= defabs * 0.01)
        && (0.01 > result / area || result / area > 100.0 || errsum > area.abs())
    {
        ier = 6;
    }
    finish(ier, result)
}

/// dqagie's final renumbering (codes above 2 move down by one) and R's rule
/// that any code but 0 is an error.
fn finish(ier: u8, result: f64) -> Result<f64, IntegrationFailure> {
    let ier = if ier > 2 { ier - 1 } else { ier };
    if ier == 0 {
        Ok(result)
    } else {
        Err(IntegrationFailure::Code(ier))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: f64 = 1.220_703_125e-4;

    #[test]
    fn normal_density_as_r_integrates_it() {
        // R: print(integrate(dnorm, -Inf, Inf)$value, digits = 17): one rule, no subdivision.
        let mut f = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let value = integrate_real_line(&mut f, TOL, 100).unwrap();
        assert!(
            (value - 0.999_999_999_794_159_3).abs() < 1e-15,
            "{value:.17}"
        );
    }

    #[test]
    fn kinked_integrand_as_r_integrates_it() {
        // R: integrate(function(x) exp(-abs(x - 3)) * (1 + sin(x)), -Inf, Inf)$value
        // = 2.1411200077946067 (subdivision and extrapolation).
        let mut f = |x: f64| (-(x - 3.0).abs()).exp() * (1.0 + x.sin());
        let value = integrate_real_line(&mut f, TOL, 100).unwrap();
        assert!(
            (value - 2.141_120_007_794_606_7).abs() < 1e-13,
            "{value:.17}"
        );
    }

    #[test]
    fn non_finite_integrand_is_an_error() {
        let mut f = |x: f64| if x > 1.0 { f64::NAN } else { 0.0 };
        assert_eq!(
            integrate_real_line(&mut f, TOL, 100),
            Err(IntegrationFailure::NonFinite)
        );
    }
}
