//! The covariance structures of a structured random term `~ inner | outer`
//! (metafor's `struct`): the matrix G over the levels of `inner`, as a
//! function of unconstrained parameters η.
//!
//! Variances are exp(η); correlations are tanh(η) (CS, HCS, AR, HAR), a
//! logistic (CAR, ρ ∈ (0, 1)), or for UN the canonical partial
//! correlations tanh(η) of a Cholesky factor (Lewandowski, Kurowicka & Joe
//! 2009), so that every η gives a positive definite G. The maximum of the
//! likelihood does not depend on the parameterisation; metafor reports the
//! same quantities (`res$tau2`, `res$rho`), in the same order. GEN is UN
//! over the columns of the inner design (random slopes) rather than over
//! the levels of the inner variable.

use nalgebra::DMatrix;

/// metafor's `struct` of a term `~ inner | outer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Struct {
    /// Compound symmetry: one τ², one ρ.
    CS,
    /// Heteroscedastic compound symmetry: a τ² per level, one ρ.
    HCS,
    /// Unstructured: a τ² per level, a ρ per pair of levels.
    UN,
    /// A τ² per level, no correlation.
    DIAG,
    /// One τ², no correlation.
    ID,
    /// First-order autoregressive over the sorted levels: τ² ρ^|i−j|.
    AR,
    /// AR with a τ² per level.
    HAR,
    /// Continuous-time AR over the inner values: τ² ρ^|tᵢ−tⱼ|.
    CAR,
    /// Random slopes (`~ x | study`): an unstructured G over the columns
    /// of the inner design (intercept, x, ...), as UN over levels.
    GEN,
}

impl Struct {
    /// Parses metafor's name (case-insensitive).
    pub fn parse(name: &str) -> Option<Struct> {
        Some(match name.trim().to_ascii_uppercase().as_str() {
            "CS" => Struct::CS,
            "HCS" => Struct::HCS,
            "UN" => Struct::UN,
            "DIAG" => Struct::DIAG,
            "ID" => Struct::ID,
            "AR" => Struct::AR,
            "HAR" => Struct::HAR,
            "CAR" => Struct::CAR,
            "GEN" => Struct::GEN,
            _ => return None,
        })
    }

    /// metafor's name.
    pub fn name(self) -> &'static str {
        match self {
            Struct::CS => "CS",
            Struct::HCS => "HCS",
            Struct::UN => "UN",
            Struct::DIAG => "DIAG",
            Struct::ID => "ID",
            Struct::AR => "AR",
            Struct::HAR => "HAR",
            Struct::CAR => "CAR",
            Struct::GEN => "GEN",
        }
    }

    /// Whether each level has its own τ².
    pub fn heteroscedastic(self) -> bool {
        matches!(
            self,
            Struct::HCS | Struct::UN | Struct::DIAG | Struct::HAR | Struct::GEN
        )
    }

    /// The number of τ² for `n` levels.
    pub fn n_tau2(self, n: usize) -> usize {
        if self.heteroscedastic() { n } else { 1 }
    }

    /// The number of ρ for `n` levels.
    pub fn n_rho(self, n: usize) -> usize {
        match self {
            Struct::DIAG | Struct::ID => 0,
            Struct::UN | Struct::GEN => n * (n - 1) / 2,
            _ => 1,
        }
    }

    /// The number of parameters for `n` levels.
    pub fn n_params(self, n: usize) -> usize {
        self.n_tau2(n) + self.n_rho(n)
    }

    /// Starting parameters: every τ² at `tau2`, every ρ at 0 (CAR: ½).
    pub fn start(self, n: usize, tau2: f64) -> Vec<f64> {
        let mut eta = vec![tau2.ln(); self.n_tau2(n)];
        eta.extend(std::iter::repeat_n(0.0, self.n_rho(n)));
        eta
    }

    /// (τ², ρ) of parameters `eta` for `n` levels, in metafor's order (UN:
    /// the lower triangle of the correlation matrix column by column).
    pub fn values(self, n: usize, eta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let nt = self.n_tau2(n);
        let tau2: Vec<f64> = eta[..nt].iter().map(|e| e.exp()).collect();
        let rho = match self {
            Struct::DIAG | Struct::ID => Vec::new(),
            Struct::CAR => vec![logistic(eta[nt])],
            Struct::UN | Struct::GEN => {
                let r = un_correlation(n, &eta[nt..]);
                let mut out = Vec::with_capacity(n * (n - 1) / 2);
                for j in 0..n {
                    for i in j + 1..n {
                        out.push(r[(i, j)]);
                    }
                }
                out
            }
            _ => vec![eta[nt].tanh()],
        };
        (tau2, rho)
    }

    /// G over `times.len()` levels (AR and HAR: the positions 0, 1, ...;
    /// CAR: the inner values).
    pub fn matrix(self, times: &[f64], eta: &[f64]) -> DMatrix<f64> {
        let n = times.len();
        let (tau2, rho) = self.values(n, eta);
        let sd = |a: usize| tau2[if self.heteroscedastic() { a } else { 0 }].sqrt();
        match self {
            Struct::UN | Struct::GEN => {
                let r = un_correlation(n, &eta[n..]);
                DMatrix::from_fn(n, n, |a, b| sd(a) * sd(b) * r[(a, b)])
            }
            _ => DMatrix::from_fn(n, n, |a, b| {
                let correlation = if a == b {
                    1.0
                } else {
                    match self {
                        Struct::DIAG | Struct::ID => 0.0,
                        Struct::CS | Struct::HCS => rho[0],
                        _ => rho[0].powf((times[a] - times[b]).abs()),
                    }
                };
                sd(a) * sd(b) * correlation
            }),
        }
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The correlation matrix L Lᵀ whose Cholesky factor L has the canonical
/// partial correlations tanh(η) (row by row below the diagonal).
fn un_correlation(n: usize, eta: &[f64]) -> DMatrix<f64> {
    let mut l = DMatrix::zeros(n, n);
    let mut next = 0;
    for i in 0..n {
        let mut left: f64 = 1.0;
        for j in 0..i {
            let z = eta[next].tanh();
            next += 1;
            l[(i, j)] = z * left.sqrt();
            left -= l[(i, j)] * l[(i, j)];
        }
        l[(i, i)] = left.max(0.0).sqrt();
    }
    &l * l.transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn un_is_a_correlation_matrix_for_any_parameters() {
        let r = un_correlation(3, &[3.0, -2.0, 0.4]);
        for a in 0..3 {
            assert!((r[(a, a)] - 1.0).abs() < 1e-12);
        }
        assert!(nalgebra::Cholesky::new(r).is_some());
    }

    #[test]
    fn orders_follow_metafor() {
        let (tau2, rho) = Struct::UN.values(3, &[0.0, 0.0, 0.0, 0.5, 0.0, 0.0]);
        assert_eq!(tau2, [1.0; 3]);
        // (2,1) = tanh(0.5); (3,1), (3,2) = 0.
        assert_eq!(rho.len(), 3);
        assert!((rho[0] - 0.5f64.tanh()).abs() < 1e-12);
        let g = Struct::AR.matrix(&[0.0, 1.0, 2.0], &[0.0, 0.5f64.atanh()]);
        assert!((g[(0, 2)] - 0.25).abs() < 1e-12);
    }
}
