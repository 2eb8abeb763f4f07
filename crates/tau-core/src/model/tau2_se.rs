//! The standard error of τ̂² for every estimator, as metafor `rma.uni`
//! reports it (`se.tau2`; Viechtbauer's notes on the moments estimators).
//!
//! Let P_w = W − WX(X'WX)⁻¹X'W for diagonal weights W, V = diag(vᵢ), τ̂²
//! the (truncated) estimate and, for the moments estimators, the variance
//! of their quadratic form under the model,
//! B(P) = 2 tr(PVPV) + 4τ̂² tr(PPV) + 2τ̂⁴ tr(PP). Then
//!
//! * HS (wᵢ = 1/vᵢ, so tr(P_wV) = k − p): √(2(k − p) + 4τ̂² tr P + 2τ̂⁴ tr PP) / Σwᵢ;
//!   HSk: k/(k − p) times that;
//! * HE (W = I): √(2 tr(PVPV) + 4τ̂² tr(PV) + 2τ̂⁴(k − p)) / (k − p);
//! * DL (wᵢ = 1/vᵢ): √(2(k − p) + 4τ̂² tr P + 2τ̂⁴ tr PP) / tr P;
//! * GENQ, GENQM (the user's weights aᵢ): √B(P_A) / tr P_A;
//! * SJ (wᵢ = 1/(vᵢ + τ₀²), τ₀² = Σ(yᵢ − ȳ)²/k): τ₀²·√B(P_w) / (k − p);
//! * ML (wᵢ = 1/(vᵢ + τ̂²)): √(2/Σwᵢ²), the inverse Fisher information;
//! * REML: √(2/tr(PP)) at wᵢ = 1/(vᵢ + τ̂²);
//! * EB, PM, PMM, DLIT, SJIT: √(2k²/(k − p)) / Σwᵢ at wᵢ = 1/(vᵢ + τ̂²).
//!
//! metafor 3.8 gave DLIT the DL formula; current metafor (since 4.6-0) gives
//! it PM's, as its estimate is PM's, and tau follows current metafor.

use super::convergence::Tau2Error;
use super::method::Method;
use super::residual_maker::ResidualMaker;
use super::tau2::Problem;

/// SE(τ̂²) of `method` at the estimate `tau2`; `None` for the common-effect model.
pub fn standard_error(
    method: Method,
    problem: &Problem<'_>,
    tau2: f64,
) -> Result<Option<f64>, Tau2Error> {
    let (k, p) = (problem.k(), problem.p());
    let (x, vi) = (problem.x, problem.vi);
    let t = tau2.max(0.0);
    let one = |_: usize| 1.0;
    let v = |i: usize| vi[i];
    let weights_at = |tau2: f64| -> Vec<f64> { vi.iter().map(|v| 1.0 / (v + tau2)).collect() };
    // B(P) of the module docs.
    let quadratic_variance = |pm: &ResidualMaker<'_>| {
        2.0 * pm.trace_squared(&v, &v)
            + 4.0 * t * pm.trace_squared(&one, &v)
            + 2.0 * t * t * pm.trace_squared(&one, &one)
    };
    let se = match method {
        Method::EE => return Ok(None),
        Method::HS | Method::HSk | Method::DL => {
            let w = weights_at(0.0);
            let pm = ResidualMaker::new(x, &w)?;
            let tr_p = pm.trace(&one);
            let root =
                (2.0 * (k - p) + 4.0 * t * tr_p + 2.0 * t * t * pm.trace_squared(&one, &one))
                    .sqrt();
            let sum_w: f64 = w.iter().sum();
            match method {
                Method::HS => root / sum_w,
                Method::HSk => k / (k - p) * root / sum_w,
                _ => root / tr_p,
            }
        }
        Method::HE => {
            let w = vec![1.0; vi.len()];
            let pm = ResidualMaker::new(x, &w)?;
            (2.0 * pm.trace_squared(&v, &v) + 4.0 * t * pm.trace(&v) + 2.0 * t * t * (k - p)).sqrt()
                / (k - p)
        }
        Method::GENQ | Method::GENQM => {
            let a = problem.weights.ok_or(Tau2Error::NeedsWeights {
                method: method.name(),
            })?;
            let pm = ResidualMaker::new(x, a)?;
            quadratic_variance(&pm).sqrt() / pm.trace(&one)
        }
        Method::SJ => {
            let tau2_0 = problem.yc.iter().map(|y| y * y).sum::<f64>() / k;
            let w = weights_at(tau2_0);
            let pm = ResidualMaker::new(x, &w)?;
            tau2_0 * quadratic_variance(&pm).sqrt() / (k - p)
        }
        Method::ML => {
            let sum_w2: f64 = weights_at(t).iter().map(|w| w * w).sum();
            (2.0 / sum_w2).sqrt()
        }
        Method::REML => {
            let w = weights_at(t);
            let pm = ResidualMaker::new(x, &w)?;
            (2.0 / pm.trace_squared(&one, &one)).sqrt()
        }
        Method::EB | Method::PM | Method::PMM | Method::DLIT | Method::SJIT => {
            let sum_w: f64 = weights_at(t).iter().sum();
            (2.0 * k * k / (k - p)).sqrt() / sum_w
        }
    };
    Ok(Some(se))
}
