use super::*;
use crate::data::dataset::load_json;

const FILE: &str = r#"[
  {"study": "A", "yi": 0.1, "vi": 0.01, "moderators": {"g": "b", "x": 1, "h": "u"}},
  {"study": "B", "yi": 0.2, "vi": 0.02, "moderators": {"g": "a", "x": 2, "h": "u"}},
  {"study": "C", "yi": 0.3, "vi": 0.03, "moderators": {"g": "c", "x": 3, "h": "v"}},
  {"study": "D", "yi": 0.4, "vi": 0.04, "moderators": {"g": "a", "h": "v"}},
  {"study": "E", "yi": 0.5, "vi": 0.05, "moderators": {"g": "b", "x": 5, "h": "u"}}
]"#;

fn spec(mods: &[&str], intercept: bool) -> DesignSpec {
    DesignSpec {
        moderators: mods.iter().map(|m| m.to_string()).collect(),
        references: Vec::new(),
        intercept,
    }
}

fn build_with(mods: &[&str], intercept: bool) -> Result<Design, DesignError> {
    build(&load_json(FILE, None).unwrap(), &spec(mods, intercept))
}

#[test]
fn dummy_coding_follows_sorted_levels() {
    let d = build_with(&["x", "g"], true).unwrap();
    assert_eq!(d.names, ["intrcpt", "x", "g=b", "g=c"]);
    assert_eq!(d.rows, [0, 1, 2, 4]);
    assert_eq!(d.dropped.len(), 1);
    assert_eq!(d.dropped[0].study, "D");
    assert_eq!(d.dropped[0].missing, ["x"]);
    // Study A: x = 1, g = b.
    assert_eq!(
        d.x.row(0).iter().copied().collect::<Vec<_>>(),
        [1.0, 1.0, 1.0, 0.0]
    );
    assert_eq!(d.tested(), [1, 2, 3]);
}

#[test]
fn reference_level_can_be_chosen() {
    let mut s = spec(&["g"], true);
    s.references.push(("g".into(), "c".into()));
    let d = build(&load_json(FILE, None).unwrap(), &s).unwrap();
    assert_eq!(d.names, ["intrcpt", "g=a", "g=b"]);
    s.references[0].1 = "z".into();
    let err = build(&load_json(FILE, None).unwrap(), &s).unwrap_err();
    assert!(err.to_string().contains("a, b, c"), "{err}");
}

#[test]
fn without_intercept_first_factor_is_fully_coded() {
    let d = build_with(&["g", "h"], false).unwrap();
    assert_eq!(d.names, ["g=a", "g=b", "g=c", "h=v"]);
    assert!(d.tested() == [0, 1, 2, 3]);
}

#[test]
fn singular_designs_name_the_moderator() {
    let data = load_json(
        r#"[
      {"study": "A", "yi": 0.1, "vi": 0.01, "moderators": {"c": 2, "one": "k", "x": 1, "x2": 2}},
      {"study": "B", "yi": 0.2, "vi": 0.02, "moderators": {"c": 2, "one": "k", "x": 2, "x2": 4}},
      {"study": "C", "yi": 0.3, "vi": 0.03, "moderators": {"c": 2, "one": "k", "x": 3, "x2": 6}}
    ]"#,
        None,
    )
    .unwrap();
    let err = build(&data, &spec(&["c"], true)).unwrap_err();
    assert!(matches!(err, DesignError::Constant { .. }), "{err}");
    let err = build(&data, &spec(&["one"], true)).unwrap_err();
    assert!(err.to_string().contains("only one level"), "{err}");
    let err = build(&data, &spec(&["x", "x2"], true)).unwrap_err();
    assert!(
        err.to_string()
            .contains("'x2' is collinear with the intercept and 'x'"),
        "{err}"
    );
}

#[test]
fn collinear_dummies_are_caught() {
    // h is a function of g here: g = a|b -> u, c -> v, once D is dropped.
    let data = load_json(FILE, None).unwrap();
    let mut s = spec(&["x", "g", "h"], true);
    s.references.clear();
    let err = build(&data, &s).unwrap_err();
    assert!(
        matches!(&err, DesignError::Collinear { moderator, .. } if moderator == "h"),
        "{err}"
    );
}

#[test]
fn bad_specs_are_reported() {
    assert!(matches!(
        build_with(&[], true),
        Err(DesignError::NoModerators)
    ));
    assert!(matches!(
        build_with(&["g", "g"], true),
        Err(DesignError::Repeated(_))
    ));
    let mut s = spec(&["g"], true);
    s.references.push(("x".into(), "1".into()));
    assert!(matches!(
        build(&load_json(FILE, None).unwrap(), &s),
        Err(DesignError::ReferenceNotUsed { .. })
    ));
}
