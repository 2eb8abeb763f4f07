//! BLUPs of crossed and structured rma.mv fits against metafor's `ranef()`.
//!
//! Expected values: tests/fixtures/mv_ranef.json, written by
//! tests/fixtures/generate_mv_ranef.R (metafor 3.8.1, models of
//! tests/fixtures/mv.json, each the better fit of optim's BFGS and
//! Nelder-Mead with tight tolerances). The
//! BLUPs inherit the ~1e-6 by which metafor's variance components stop
//! short of the maximum: they agree to 1e-5 relative to the larger of the
//! value and its standard error. Levels are compared in order, by name
//! (metafor's component names: `s.names`, and for a structured term its
//! formula, here without the "~").

use serde_json::Value;

use super::ranef;
use super::tests::{FIXTURE, setup};

const RANEF_FIXTURE: &str = include_str!("../../../../../tests/fixtures/mv_ranef.json");

#[test]
fn blups_match_metafor_ranef() {
    let fx: Value = serde_json::from_str(FIXTURE).unwrap();
    let reference: Value = serde_json::from_str(RANEF_FIXTURE).unwrap();
    let mut bad = Vec::new();
    let mut compared = 0;
    for model in reference["models"].as_array().unwrap() {
        let id = model["id"].as_str().unwrap();
        let case = fx["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap();
        let (data, options) = setup(&fx, case);
        let tau = ranef(&data, &options).unwrap_or_else(|e| panic!("{id}: {e}"));
        let expected = model["ranef"].as_object().unwrap();
        assert_eq!(tau.components.len(), expected.len(), "{id}: components");
        for ((name, effects), (m_name, m_effects)) in tau.components.iter().zip(expected) {
            assert_eq!(name.as_str(), m_name.trim_start_matches('~'), "{id}");
            let m_effects = m_effects.as_array().unwrap();
            assert_eq!(effects.len(), m_effects.len(), "{id} {name}: levels");
            for (t, m) in effects.iter().zip(m_effects) {
                let at = format!("{id} {name} {}", t.level);
                assert_eq!(t.level, m["level"].as_str().unwrap(), "{id} {name}: order");
                let se = m["se"].as_f64().unwrap();
                for (what, t, m) in [
                    ("intrcpt", t.intrcpt, m["intrcpt"].as_f64().unwrap()),
                    ("se", t.se, se),
                    ("pi_lower", t.pi_lower, m["pi_lower"].as_f64().unwrap()),
                    ("pi_upper", t.pi_upper, m["pi_upper"].as_f64().unwrap()),
                ] {
                    compared += 1;
                    if (t - m).abs() > 1e-5 * m.abs().max(se) {
                        bad.push(format!("{at} {what}: tau {t} metafor {m}"));
                    }
                }
            }
        }
    }
    assert!(compared > 1000, "only {compared} numbers compared");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
