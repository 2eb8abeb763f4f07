use super::*;
use crate::data::dataset::load_json;

const FILE: &str = r#"[
  {"study": "A", "yi": 0.10, "vi": 0.010, "moderators": {"g": "x"}},
  {"study": "B", "yi": 0.30, "vi": 0.020, "moderators": {"g": "x"}},
  {"study": "C", "yi": 0.65, "vi": 0.015, "moderators": {"g": "x"}},
  {"study": "D", "yi": 0.50, "vi": 0.030, "moderators": {"g": "y"}},
  {"study": "E", "yi": 0.20, "vi": 0.020},
  {"study": "F", "yi": 0.90, "vi": 0.025, "moderators": {"g": "z"}},
  {"study": "G", "yi": 0.70, "vi": 0.040, "moderators": {"g": "z"}}
]"#;

fn run(tau2: Tau2Mode) -> SubgroupResult {
    let data = load_json(FILE, None).unwrap();
    let options = SubgroupOptions {
        fit: FitOptions::default(),
        by: "g".into(),
        tau2,
        levels: None,
    };
    subgroup(&data, &options).unwrap()
}

#[test]
fn single_study_level_has_no_tau2() {
    let r = run(Tau2Mode::Separate);
    let levels: Vec<&str> = r.groups.iter().map(|g| g.level.as_str()).collect();
    assert_eq!(levels, ["x", "y", "z"]);
    let y = &r.groups[1];
    assert_eq!((y.k, y.estimate.value, y.tau2, y.i2), (1, 0.5, None, None));
    assert!((y.estimate.se - 0.03f64.sqrt()).abs() < 1e-15);
    assert_eq!(r.k, 6);
    assert_eq!(r.dropped, ["E"]);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.to_string().contains("left out: E"))
    );
    assert!(
        r.warnings
            .iter()
            .map(ToString::to_string)
            .any(|w| w.contains("one study only") && w.ends_with(": y"))
    );
    assert_eq!(r.q_between_df, 2);
    assert_eq!(r.q_between_distribution, "chisq");
}

#[test]
fn common_tau2_is_shared() {
    let r = run(Tau2Mode::Common);
    let tau2 = r.tau2_common.unwrap();
    assert_eq!(r.groups[0].tau2, Some(tau2));
    assert_eq!(r.groups[1].tau2, None);
    assert_eq!(r.groups[2].tau2, Some(tau2));
}

#[test]
fn parallel_batch_equals_sequential() {
    // 300 analyses of 5 studies each, with a numeric analysis id.
    let records: Vec<String> = (0..1500)
        .map(|i| {
            let y = ((i * 7919) % 113) as f64 / 100.0;
            let v = 0.01 + ((i * 104_729) % 37) as f64 / 500.0;
            format!(
                r#"{{"study": "s{i}", "yi": {y}, "vi": {v}, "moderators": {{"analysis": {}}}}}"#,
                i / 5
            )
        })
        .collect();
    let data = load_json(&format!("[{}]", records.join(",")), None).unwrap();
    let options = SubgroupOptions {
        fit: FitOptions::default(),
        by: "analysis".into(),
        tau2: Tau2Mode::Separate,
        levels: None,
    };
    let with = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| subgroup(&data, &options).unwrap())
    };
    let one = with(1);
    assert_eq!(one.groups.len(), 300);
    assert_eq!(one.groups[2].level, "2");
    assert_eq!(one.groups[10].level, "10");
    assert_eq!(one, with(4));
}

#[test]
fn common_tau2_needs_two_levels() {
    let data = load_json(FILE, None).unwrap();
    let data = crate::data::moderator::filter(&data, "g", "x").unwrap();
    let options = SubgroupOptions {
        fit: FitOptions::default(),
        by: "g".into(),
        tau2: Tau2Mode::Common,
        levels: None,
    };
    let err = subgroup(&data, &options).unwrap_err();
    assert!(
        matches!(err, SubgroupError::CommonLevels { levels: 1, .. }),
        "{err}"
    );
    let separate = SubgroupOptions {
        tau2: Tau2Mode::Separate,
        ..options
    };
    assert_eq!(subgroup(&data, &separate).unwrap().q_between, None);
}

#[test]
fn levels_set_the_order_and_must_name_every_level_once() {
    let data = load_json(FILE, None).unwrap();
    let with = |levels: &[&str]| SubgroupOptions {
        fit: FitOptions::default(),
        by: "g".into(),
        tau2: Tau2Mode::Separate,
        levels: Some(levels.iter().map(|l| (*l).to_owned()).collect()),
    };
    let r = subgroup(&data, &with(&["z", "x", "y"])).unwrap();
    let levels: Vec<&str> = r.groups.iter().map(|g| g.level.as_str()).collect();
    assert_eq!(levels, ["z", "x", "y"]);
    assert_eq!(r.groups[0].studies, [5, 6]);
    // The test of differences does not depend on the order.
    let sorted = run(Tau2Mode::Separate);
    assert!((r.q_between.unwrap() - sorted.q_between.unwrap()).abs() < 1e-12);
    for (bad, problem) in [
        (&["x", "y", "w", "z"][..], "there is no level 'w'"),
        (&["x", "y", "x", "z"][..], "'x' is listed twice"),
        (&["x", "z"][..], "the list leaves out y"),
    ] {
        let err = subgroup(&data, &with(bad)).unwrap_err().to_string();
        assert!(err.contains(problem), "{err}");
        assert!(err.contains("the levels of 'g' are: x, y, z"), "{err}");
    }
}
