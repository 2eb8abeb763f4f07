//! The approximate Hotelling T² test of several coefficients with a CR2
//! variance, the "HTZ" test (Tipton & Pustejovsky 2015; clubSandwich
//! `Wald_test(test = "HTZ")`).
//!
//! For q constraints C β = 0 (here C selects coefficients):
//! Q = (Cβ̂)' (C V C')⁻¹ (Cβ̂); with Ω = Σ_j (C G_jG_j' C' − C F_j F_j' C')
//! and T = Ω^(−1/2) C, the degrees of freedom of the Hotelling
//! approximation are ν = q(q + 1) / Σ_{s,t} Var_{st}, where (rows of T G_j
//! and T F_j written g_sj and h_sj, a_j = T G_jG_j' T', S_st = Σ_j h_sj h_tj')
//!
//! Var_st = Σ_j a_j\[s,t\]² − 2 Σ_j a_j\[s,t\] h_sj·h_tj + tr(S_ts S_ts)
//!        + Σ_j a_j\[s,s\] a_j\[t,t\] − Σ_j a_j\[s,s\] ‖h_tj‖² − Σ_j a_j\[t,t\] ‖h_sj‖² + tr(S_ts S_st),
//!
//! clubSandwich's `total_variance_mat` summed over its J × J cluster pairs,
//! rewritten as sums over clusters. Then F = δ Q/q with δ = (ν − q + 1)/ν
//! (0 if negative) on q and ν − q + 1 degrees of freedom (no p-value when
//! ν − q + 1 ≤ 0), clubSandwich's `Hotelling_Tsq`.

use nalgebra::{DMatrix, DVector};

use super::RobustError;
use super::sandwich::{Sandwich, pseudo_inverse_sqrt};
use crate::model::wls::invert_spd;
use crate::numerics::distribution::f_sf;

/// The HTZ test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Htz {
    /// The F statistic δ Q/q.
    pub statistic: f64,
    /// Numerator df q.
    pub df1: usize,
    /// Denominator df ν − q + 1.
    pub df2: f64,
    /// p-value (NaN when ν − q + 1 ≤ 0).
    pub p: f64,
}

/// The Wald statistic β̂ᵦ' V_b⁻¹ β̂ᵦ of the coefficients `indices`.
pub(crate) fn wald(
    vcov: &DMatrix<f64>,
    beta: &[f64],
    indices: &[usize],
) -> Result<f64, RobustError> {
    let m = indices.len();
    let sub = DMatrix::from_fn(m, m, |a, b| vcov[(indices[a], indices[b])]);
    let inv = invert_spd(sub).map_err(|_| RobustError::SingularRobustVcov)?;
    let b = DVector::from_iterator(m, indices.iter().map(|&i| beta[i]));
    Ok((b.transpose() * inv * &b)[(0, 0)])
}

/// The HTZ test that the coefficients `indices` of `beta` are all zero,
/// with the CR2 sandwich `sandwich`.
pub fn htz(sandwich: &Sandwich, beta: &[f64], indices: &[usize]) -> Result<Htz, RobustError> {
    let q = indices.len();
    let p = sandwich.vcov.nrows();
    let c = DMatrix::from_fn(q, p, |r, col| f64::from(u8::from(indices[r] == col)));
    let big_q = wald(&sandwich.vcov, beta, indices)?;

    let mut omega = DMatrix::zeros(q, q);
    for t in &sandwich.terms {
        let cf = &c * &t.f;
        omega += &c * &t.gg * c.transpose() - &cf * cf.transpose();
    }
    let tm = pseudo_inverse_sqrt(omega) * &c;

    let mut a = Vec::with_capacity(sandwich.terms.len());
    let mut h = Vec::with_capacity(sandwich.terms.len());
    for t in &sandwich.terms {
        a.push(&tm * &t.gg * tm.transpose());
        h.push(&tm * &t.f);
    }
    // S[s][t] = Σ_j h_sj h_tj' (p × p).
    let s_mat = |s: usize, t: usize| {
        h.iter().fold(DMatrix::<f64>::zeros(p, p), |mut acc, hj| {
            acc.ger(1.0, &hj.row(s).transpose(), &hj.row(t).transpose(), 1.0);
            acc
        })
    };
    let mut total = 0.0;
    for s in 0..q {
        for t in 0..q {
            let s_ts = s_mat(t, s);
            let s_st = s_ts.transpose();
            let mut var = (&s_ts * &s_ts).trace() + (&s_ts * &s_st).trace();
            for (aj, hj) in a.iter().zip(&h) {
                let (hs, ht) = (hj.row(s), hj.row(t));
                var += aj[(s, t)] * aj[(s, t)] - 2.0 * aj[(s, t)] * hs.dot(&ht)
                    + aj[(s, s)] * aj[(t, t)]
                    - aj[(s, s)] * ht.norm_squared()
                    - aj[(t, t)] * hs.norm_squared();
            }
            total += var;
        }
    }
    let qf = q as f64;
    let nu = qf * (qf + 1.0) / total;
    let delta = ((nu - qf + 1.0) / nu).max(0.0);
    let df2 = nu - qf + 1.0;
    let statistic = delta * big_q / qf;
    let p_value = if df2 > 0.0 {
        f_sf(statistic, qf, df2)
    } else {
        f64::NAN
    };
    Ok(Htz {
        statistic,
        df1: q,
        df2,
        p: p_value,
    })
}
