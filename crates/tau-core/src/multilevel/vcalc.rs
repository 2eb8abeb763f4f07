//! The sampling covariance matrix V of dependent effect sizes from the
//! design, as metafor's `vcalc()` builds it (Viechtbauer, metafor 4.x
//! documentation of `vcalc`), so that `rma.mv(yi, V, ...)` need not be
//! given V by hand.
//!
//! Effect sizes of one cluster (a study, or a sample within it with a
//! subgroup) are correlated; V = S R S with S = diag(√vᵢ). Within a
//! cluster, the correlation of effect sizes i and j is
//!
//! R_ij = c_ij · [a(g1ᵢ, t1ᵢ; g1ⱼ, t1ⱼ)/√(w1ᵢw1ⱼ) − a(g1ᵢ, t1ᵢ; g2ⱼ, t2ⱼ)/√(w1ᵢw2ⱼ)
//!               − a(g2ᵢ, t2ᵢ; g1ⱼ, t1ⱼ)/√(w2ᵢw1ⱼ) + a(g2ᵢ, t2ᵢ; g2ⱼ, t2ⱼ)/√(w2ᵢw2ⱼ)]
//!        / (dᵢ dⱼ), dᵢ² = 1/w1ᵢ + 1/w2ᵢ − 2 a(g1ᵢ, t1ᵢ; g2ᵢ, t2ᵢ)/√(w1ᵢw2ᵢ),
//!
//! where c_ij is 1 for the same construct (`type`) and observation (`obs`),
//! ρ_obs for the same construct and different observations, ρ_type for
//! different constructs; a(g, s; h, t) is 0 for different groups and
//! φ^|s − t| for the same group (1 at the same time); g1, g2 are the groups
//! an effect size compares (default 1 and 2), t1, t2 their times and w1, w2
//! their sizes (default 1). Effect sizes of different clusters are
//! uncorrelated. Without `obs`, `type`, groups or times every pair of a
//! cluster has correlation 1, as in metafor.

use std::collections::{HashMap, HashSet};

use nalgebra::DMatrix;

use crate::data::dataset::{Dataset, Study};
use crate::fields::{GRP1, GRP2, OBS, PHI, RHO, Setting, TIME1, TIME2, TYPE, W1, W2};
use crate::input::Moderator;

use super::grouping_label;

/// What the design says (metafor's `vcalc` arguments; variables are
/// moderators of the records).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VcalcSettings {
    /// The cluster of correlated effect sizes (`cluster`).
    pub cluster: String,
    /// Independent samples within a cluster (`subgroup`).
    pub subgroup: Option<String>,
    /// The observation (outcome, measure) of each effect size (`obs`).
    pub obs: Option<String>,
    /// The construct of each effect size (`type`).
    pub construct: Option<String>,
    /// The correlations: of different observations (with `obs`), of
    /// different constructs (with `type`); both, in that order, with both.
    pub rho: Vec<f64>,
    /// The time of the first group's measurement (`time1`).
    pub time1: Option<String>,
    /// The time of the second group's measurement (`time2`).
    pub time2: Option<String>,
    /// The autocorrelation per unit of time (`phi`).
    pub phi: Option<f64>,
    /// The first group an effect size compares (`grp1`).
    pub grp1: Option<String>,
    /// The second group (`grp2`).
    pub grp2: Option<String>,
    /// The first group's size (`w1`).
    pub w1: Option<String>,
    /// The second group's size (`w2`).
    pub w2: Option<String>,
}

/// The matrix as pairs, and what the caller should say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Vcalc {
    /// (record, record, covariance) for every non-zero entry on or below
    /// the diagonal, in the records' order.
    pub pairs: Vec<(String, String, f64)>,
    /// Clusters whose block is not positive definite (metafor warns).
    pub not_positive_definite: Vec<String>,
}

/// Why V was not built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VcalcError {
    /// Settings that do not go together.
    #[error("{0}")]
    Settings(String),
    /// A record lacks a variable, or has a value of the wrong kind.
    #[error("record '{label}': {problem}")]
    Record {
        /// The record's label.
        label: String,
        /// What is wrong.
        problem: String,
    },
    /// Two records share a label, so the pairs cannot name them.
    #[error(
        "two records are labelled '{0}': the matrix names records by label, so give each record its own label"
    )]
    RepeatedLabel(String),
}

impl crate::Kinded for VcalcError {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Input
    }
}

/// One effect size's place in the design.
struct Row {
    cluster: String,
    obs: String,
    construct: String,
    g1: String,
    g2: String,
    t1: f64,
    t2: f64,
    w1: f64,
    w2: f64,
}

/// Builds V for `data` (see the module doc).
pub fn vcalc(data: &Dataset, s: &VcalcSettings) -> Result<Vcalc, VcalcError> {
    let settings = |m: String| Err(VcalcError::Settings(m));
    if (s.obs.is_some() || s.construct.is_some()) && s.rho.is_empty() {
        return settings(format!(
            "{RHO} is needed with {OBS} or {TYPE}: the correlation of different observations (or constructs) of one cluster"
        ));
    }
    let wanted = usize::from(s.obs.is_some()) + usize::from(s.construct.is_some());
    if s.rho.len() != wanted {
        return settings(format!(
            "{RHO} takes {wanted} value{}: {}",
            if wanted == 1 { "" } else { "s" },
            match (s.obs.is_some(), s.construct.is_some()) {
                (true, true) => "the correlation of different observations of one construct, then of different constructs".to_owned(),
                (true, false) => "the correlation of different observations".to_owned(),
                (false, true) => "the correlation of different constructs".to_owned(),
                (false, false) => format!("none without {OBS} or {TYPE}"),
            }
        ));
    }
    if let Some(r) = s.rho.iter().find(|r| !(-1.0..=1.0).contains(*r)) {
        return settings(format!(
            "{RHO} {r} is not a correlation: give a value in [-1, 1]"
        ));
    }
    let needs = |given: bool, needed: bool, what: Setting, need: Setting, why: &str| {
        (given && !needed).then(|| format!("{what} needs {need}: {why}"))
    };
    if let Some(problem) = [
        needs(
            s.grp2.is_some(),
            s.grp1.is_some(),
            GRP2,
            GRP1,
            "give the first group too",
        ),
        needs(
            s.time2.is_some(),
            s.time1.is_some(),
            TIME2,
            TIME1,
            "give the first group's time too",
        ),
        needs(
            s.time2.is_some(),
            s.grp2.is_some(),
            TIME2,
            GRP2,
            "the second group's time belongs to a second group",
        ),
        needs(
            s.w2.is_some(),
            s.w1.is_some(),
            W2,
            W1,
            "give the first group's size too",
        ),
        needs(
            s.w2.is_some(),
            s.grp2.is_some(),
            W2,
            GRP2,
            "the second group's size belongs to a second group",
        ),
    ]
    .into_iter()
    .flatten()
    .next()
    {
        return settings(problem);
    }
    let timed = s.time1.is_some();
    let phi = match (timed, s.phi) {
        (true, None) => {
            return settings(format!(
                "{PHI} is needed with {TIME1}: the autocorrelation per unit of time"
            ));
        }
        (true, Some(phi)) if !(-1.0..=1.0).contains(&phi) => {
            return settings(format!(
                "{PHI} {phi} is not a correlation: give a value in [-1, 1]"
            ));
        }
        (_, phi) => phi.unwrap_or(1.0),
    };
    let (rho_obs, rho_type) = match (s.obs.is_some(), s.construct.is_some()) {
        (true, true) => (s.rho[0], s.rho[1]),
        (true, false) => (s.rho[0], 0.0),
        (false, true) => (0.0, s.rho[0]),
        (false, false) => (0.0, 0.0),
    };
    let mut seen = HashSet::new();
    for study in &data.studies {
        if !seen.insert(study.label()) {
            return Err(VcalcError::RepeatedLabel(study.label().to_owned()));
        }
    }
    let rows: Vec<Row> = data
        .studies
        .iter()
        .map(|study| row(study, s))
        .collect::<Result<_, _>>()?;
    // a(g, s; h, t): 0 for different groups, φ^|s − t| for one group.
    let a = |g: &str, t: f64, h: &str, u: f64| -> f64 {
        if g != h {
            0.0
        } else if t == u {
            1.0
        } else {
            phi.powf((t - u).abs())
        }
    };
    // dᵢ, once per record.
    let d: Vec<f64> = (rows.iter())
        .map(|r| {
            (1.0 / r.w1 + 1.0 / r.w2 - 2.0 * a(&r.g1, r.t1, &r.g2, r.t2) / (r.w1 * r.w2).sqrt())
                .sqrt()
        })
        .collect();
    if let Some(at) = d.iter().position(|x| x.is_nan() || *x <= 0.0) {
        let r = &rows[at];
        return Err(VcalcError::Record {
            label: data.studies[at].label().to_owned(),
            problem: format!(
                "it compares group '{}' with itself ({GRP1} and {GRP2} are equal, at one time and size), so its effect has no variance to correlate; give the two groups it compares",
                r.g1
            ),
        });
    }
    let correlation = |p: usize, q: usize| -> f64 {
        let (i, j) = (&rows[p], &rows[q]);
        let c = if i.construct != j.construct {
            rho_type
        } else if i.obs != j.obs {
            rho_obs
        } else {
            1.0
        };
        let groups = a(&i.g1, i.t1, &j.g1, j.t1) / (i.w1 * j.w1).sqrt()
            - a(&i.g1, i.t1, &j.g2, j.t2) / (i.w1 * j.w2).sqrt()
            - a(&i.g2, i.t2, &j.g1, j.t1) / (i.w2 * j.w1).sqrt()
            + a(&i.g2, i.t2, &j.g2, j.t2) / (i.w2 * j.w2).sqrt();
        c * groups / (d[p] * d[q])
    };
    let mut clusters: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let at = *index.entry(r.cluster.as_str()).or_insert_with(|| {
            clusters.push((r.cluster.as_str(), Vec::new()));
            clusters.len() - 1
        });
        clusters[at].1.push(i);
    }
    let sd: Vec<f64> = data.studies.iter().map(|s| s.vi.sqrt()).collect();
    let mut entries: Vec<(usize, usize, f64)> = Vec::new();
    let mut not_positive_definite = Vec::new();
    for (name, members) in &clusters {
        let n = members.len();
        let block = DMatrix::from_fn(n, n, |p, q| {
            let (i, j) = (members[p], members[q]);
            let r = if p == q { 1.0 } else { correlation(i, j) };
            sd[i] * sd[j] * r
        });
        for p in 0..n {
            for q in 0..=p {
                let (i, j) = (members[p], members[q]);
                let value = block[(p, q)];
                if value != 0.0 {
                    entries.push((i.max(j), i.min(j), value));
                }
            }
        }
        if nalgebra::Cholesky::new(block).is_none() {
            not_positive_definite.push((*name).to_owned());
        }
    }
    entries.sort_by_key(|&(i, j, _)| (j, i));
    let label = |i: usize| data.studies[i].label().to_owned();
    Ok(Vcalc {
        pairs: entries
            .into_iter()
            .map(|(i, j, v)| (label(i), label(j), v))
            .collect(),
        not_positive_definite,
    })
}

/// Reads one record's place in the design.
fn row(study: &Study, s: &VcalcSettings) -> Result<Row, VcalcError> {
    let problem = |p: String| VcalcError::Record {
        label: study.label().to_owned(),
        problem: p,
    };
    let value = |name: &str| -> Result<&Moderator, VcalcError> {
        match study.moderators.get(name) {
            Some(Moderator::Missing) | None => Err(problem(format!(
                "it has no value of '{name}'; every record needs one"
            ))),
            Some(m) => Ok(m),
        }
    };
    let text = |name: Option<&str>, default: &str| -> Result<String, VcalcError> {
        match name {
            None => Ok(default.to_owned()),
            Some(name) => Ok(grouping_label(value(name)?).unwrap_or_default()),
        }
    };
    let number = |name: &Option<String>, default: f64, positive: bool| -> Result<f64, VcalcError> {
        let Some(name) = name else {
            return Ok(default);
        };
        match value(name)? {
            Moderator::Number(x) if x.is_finite() && (!positive || *x > 0.0) => Ok(*x),
            other => Err(problem(format!(
                "'{name}' is {}, not a {}number",
                grouping_label(other).map_or_else(|| "missing".into(), |t| format!("'{t}'")),
                if positive { "positive " } else { "" }
            ))),
        }
    };
    let mut cluster = text(Some(&s.cluster), "")?;
    if let Some(subgroup) = &s.subgroup {
        cluster = format!("{cluster}.{}", text(Some(subgroup), "")?);
    }
    let g1 = text(s.grp1.as_deref(), "1")?;
    let t1 = number(&s.time1, 1.0, false)?;
    let w1 = number(&s.w1, 1.0, true)?;
    Ok(Row {
        cluster,
        obs: text(s.obs.as_deref(), "1")?,
        construct: text(s.construct.as_deref(), "1")?,
        g2: text(s.grp2.as_deref(), "2")?,
        t2: if s.time2.is_some() {
            number(&s.time2, 1.0, false)?
        } else {
            t1
        },
        w2: if s.w2.is_some() {
            number(&s.w2, 1.0, true)?
        } else {
            w1
        },
        g1,
        t1,
        w1,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    /// Every case of tests/fixtures/vcalc.json, written by
    /// tests/fixtures/generate_vcalc.R from metafor's `vcalc()` (metafor
    /// 3.8.1; dat.kalaian1996, dat.fine1993 and simulated multi-arm trials
    /// with a shared control group, constructs, times and subgroups): the
    /// same non-zero entries, each to 1e-12 relative.
    #[test]
    fn matrices_match_metafor_vcalc() {
        let fx: Value =
            serde_json::from_str(include_str!("../../../../tests/fixtures/vcalc.json")).unwrap();
        let text = |v: &Value| v.as_str().map(str::to_owned);
        for case in fx["cases"].as_array().unwrap() {
            let ds = fx["datasets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["id"] == case["dataset"])
                .unwrap();
            let file = serde_json::json!({"studies": ds["studies"]});
            let data = crate::data::dataset::load_json(&file.to_string(), None).unwrap();
            let s = &case["settings"];
            let settings = VcalcSettings {
                cluster: text(&s["cluster"]).unwrap(),
                subgroup: text(&s["subgroup"]),
                obs: text(&s["obs"]),
                construct: text(&s["type"]),
                rho: (s["rho"].as_array().into_iter().flatten())
                    .map(|r| r.as_f64().unwrap())
                    .collect(),
                time1: text(&s["time1"]),
                time2: text(&s["time2"]),
                phi: s["phi"].as_f64(),
                grp1: text(&s["grp1"]),
                grp2: text(&s["grp2"]),
                w1: text(&s["w1"]),
                w2: text(&s["w2"]),
            };
            let v = vcalc(&data, &settings).unwrap();
            let expected = case["pairs"].as_array().unwrap();
            assert_eq!(v.pairs.len(), expected.len(), "{}", case["id"]);
            for ((a, b, c), e) in v.pairs.iter().zip(expected) {
                assert_eq!(
                    (a.as_str(), b.as_str()),
                    (e[0].as_str().unwrap(), e[1].as_str().unwrap()),
                    "{}",
                    case["id"]
                );
                let m = e[2].as_f64().unwrap();
                assert!(
                    (c - m).abs() <= 1e-12 * m.abs(),
                    "{} {a} {b}: tau {c}, metafor {m}",
                    case["id"]
                );
            }
        }
    }

    /// Settings that do not go together are refused by name.
    #[test]
    fn settings_are_checked() {
        let data = crate::data::dataset::load_json(
            r#"{"studies": [{"study": "a", "yi": 0.1, "vi": 0.01, "moderators": {"s": 1, "o": "x"}},
                            {"study": "b", "yi": 0.2, "vi": 0.02, "moderators": {"s": 1, "o": "y"}}]}"#,
            None,
        )
        .unwrap();
        let base = VcalcSettings {
            cluster: "s".into(),
            ..VcalcSettings::default()
        };
        for (settings, needle) in [
            (
                VcalcSettings {
                    obs: Some("o".into()),
                    ..base.clone()
                },
                "`rho` is needed with `obs`",
            ),
            (
                VcalcSettings {
                    obs: Some("o".into()),
                    rho: vec![1.5],
                    ..base.clone()
                },
                "`rho` 1.5 is not a correlation",
            ),
            (
                VcalcSettings {
                    grp2: Some("o".into()),
                    ..base.clone()
                },
                "`grp2` needs `grp1`",
            ),
            (
                VcalcSettings {
                    time1: Some("s".into()),
                    ..base.clone()
                },
                "`phi` is needed with `first_time`",
            ),
            (
                VcalcSettings {
                    time1: Some("o".into()),
                    phi: Some(0.5),
                    ..base.clone()
                },
                "record 'a': 'o' is 'x', not a number",
            ),
            (
                VcalcSettings {
                    grp1: Some("s".into()),
                    grp2: Some("s".into()),
                    ..base.clone()
                },
                "record 'a': it compares group '1' with itself",
            ),
            (
                VcalcSettings {
                    cluster: "nope".into(),
                    ..base.clone()
                },
                "record 'a': it has no value of 'nope'",
            ),
        ] {
            let e = vcalc(&data, &settings).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }
}
