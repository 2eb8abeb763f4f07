//! Every validation rule, met through the `tau` binary as a user meets it:
//! the exit code (2 for bad input or usage, 1 for an analysis or output
//! failure, never 101), nothing on standard output when it fails, and a message on standard
//! error that names the file, the study, the field and its position, says what
//! was expected and what was found, and how to fix it.
//!
//! The inputs are in tests/bad_inputs/; docs/src/errors.md shows the messages.

use crate::util::tau;

struct Case {
    /// Arguments after `tau pool`.
    args: &'static [&'static str],
    /// Expected exit code.
    code: i32,
    /// Fragments the message must contain.
    expect: &'static [&'static str],
}

const fn case(args: &'static [&'static str], code: i32, expect: &'static [&'static str]) -> Case {
    Case { args, code, expect }
}

const BAD: &str = "tests/bad_inputs/";

const CASES: &[Case] = &[
    // Issue 18: keys as JSON reads them, comments, binary files, CSV causes.
    case(
        &["repeated_measure.json"],
        2,
        &[
            "repeated_measure.json:3:",
            "duplicate top-level field `measure`",
        ],
    ),
    case(
        &["repeated_moderator.json"],
        2,
        &["study 'Ames 2001' (record 1)", "duplicate moderator `dose`"],
    ),
    case(
        &["json_comment.json"],
        2,
        &["json_comment.json:3:3:", "JSON has no comments"],
    ),
    case(&["nul_bytes.json"], 2, &["not a text file"]),
    case(&["json_inside.csv"], 2, &["holds JSON, not CSV", ".json"]),
    // Issue 14: headers that differ from a field's name in case are read as
    // that field, with a note.
    case(
        &["upper_case_headers.csv"],
        0,
        &["columns read as record fields: 'YI' as yi, 'VI' as vi"],
    ),
    case(&["transposed.csv"], 2, &["seems transposed"]),
    case(
        &["empty_label.json"],
        2,
        &[
            "empty_label.json:5:",
            "(record 2), field study",
            "the study label is empty",
        ],
    ),
    case(
        &["underflow.json"],
        2,
        &["vi must be > 0", "1e-400", "underflows to 0"],
    ),
    case(
        &["underflow.csv"],
        2,
        &["line 2, column 3 (vi)", "1e-400", "underflows to 0"],
    ),
    // Pools fine; `regress --mods budget` is the error (tests/adversarial.rs).
    case(&["huge_moderator.json"], 0, &[]),
    // JSON syntax and shape (src/input/json.rs)
    case(
        &["missing_comma.json"],
        2,
        &[
            "missing_comma.json:3:25:",
            "study 'Berg 2004' (record 2)",
            "expected `,` or `}`",
            "missing comma",
        ],
    ),
    case(
        &["quoted_number.json"],
        2,
        &[
            "quoted_number.json:3:37:",
            "study 'Berg 2004' (record 2), field yi",
            "expected a number, found string \"0.31\"",
            "without quotes",
        ],
    ),
    case(
        &["unknown_field.json"],
        2,
        &[
            "unknown_field.json:3:",
            "study 'Berg 2004' (record 2), field Yi",
            "unknown field `Yi`",
            "did you mean `yi`?",
        ],
    ),
    case(
        &["missing_label.json"],
        2,
        &[
            "missing_label.json:3:",
            "record 2",
            "missing field `study`",
            "needs a \"study\" label",
        ],
    ),
    case(
        &["numeric_label.json"],
        2,
        &[
            "numeric_label.json:2:",
            "record 1, field study",
            "expected a string, found integer `2001`",
            "double quotes",
        ],
    ),
    case(
        &["null_label.json"],
        2,
        &[
            "null_label.json:2:",
            "record 1, field study",
            "expected a string, found null",
            "needs a value",
        ],
    ),
    case(
        &["no_studies_array.json"],
        2,
        &[
            "no_studies_array.json:1:",
            "unknown field `records`",
            "`studies`",
        ],
    ),
    case(
        &["empty_studies.json"],
        2,
        &[
            "empty_studies.json:",
            "holds no studies",
            "add at least one record",
        ],
    ),
    case(
        &["empty.json"],
        2,
        &["empty.json:1:1:", "the file is empty", "\"studies\" array"],
    ),
    case(
        &["not_a_study_file.json"],
        2,
        &[
            "not_a_study_file.json:1:1:",
            "expected a JSON object",
            "tau schema",
        ],
    ),
    case(
        &["trailing_bracket.json"],
        2,
        &[
            "trailing_bracket.json:4:1:",
            "trailing characters",
            "extra ] or }",
        ],
    ),
    case(
        &["record_as_list.json"],
        2,
        &[
            // serde_json places the error on the column before the `[`.
            "record_as_list.json:2:2:",
            "record 1",
            "must be a JSON object",
            "not a list of values",
        ],
    ),
    case(
        &["duplicate_field.json"],
        2,
        &[
            "duplicate_field.json:2:",
            "study 'Ames 2001' (record 1)",
            "duplicate field `vi`",
            "once per record",
        ],
    ),
    case(
        &["nested_moderator.json"],
        2,
        &[
            "nested_moderator.json:2:",
            "field moderators.setting",
            "expected a number, a string, a boolean or null, found map",
            "one value",
        ],
    ),
    case(
        &["huge_number.json"],
        2,
        &[
            "huge_number.json:2:",
            "field yi",
            "number out of range",
            "1e308",
        ],
    ),
    // The measure (src/dataset.rs)
    case(
        &["unknown_measure.json"],
        2,
        &[
            "unknown_measure.json:",
            "unknown measure \"HR\"",
            "use one of SMD",
        ],
    ),
    case(
        &["binary_no_measure.json"],
        2,
        &[
            "binary_no_measure.json:",
            "two-group binary data but no measure",
            "--measure",
        ],
    ),
    case(
        &["binary_no_measure.json", "--measure", "SMD"],
        2,
        &[
            "study 'Ames 2001' (record 1)",
            "two-group binary data cannot give measure SMD",
            "OR, RR, RD or PETO",
        ],
    ),
    case(
        &["generic.json", "--measure", "XYZ"],
        2,
        &["unknown measure \"XYZ\"", "SMD, MD, OR"],
    ),
    // CSV (src/input/csv.rs)
    case(
        &["no_study_column.csv"],
        2,
        &[
            "no_study_column.csv: line 1",
            "no \"study\" column",
            "(label, yi, vi)",
            "add one",
        ],
    ),
    case(
        &["two_spellings.csv"],
        2,
        &["line 1, column 3 (SD 1)", "both read as the field \"sd1\""],
    ),
    case(
        &["two_measures.csv"],
        2,
        &["line 3, column 2 (measure)", "since line 2"],
    ),
    case(
        &["decimal_comma_in_comma_file.csv"],
        2,
        &[
            "line 2, column 2 (yi)",
            "which has a decimal comma",
            "';' separators",
        ],
    ),
    case(
        &["point_in_decimal_comma_file.csv"],
        2,
        &[
            "line 3, column 2 (yi)",
            "writes decimals with a comma",
            "--decimal .",
        ],
    ),
    case(
        &["means_no_measure.csv"],
        2,
        &["SMD, MD, SMDH or ROM", "--measure SMD", "# measure: SMD"],
    ),
    case(
        &["missing_effect.csv", "--strict"],
        2,
        &["line 3, column 3 (vi): study 'Berg' (record 2): vi is missing"],
    ),
    case(
        &["missing_effect.csv", "--exclude", "ames"],
        2,
        &[
            "--exclude \"ames\": no study has this label",
            "Ames, Berg, Cole, Dunn",
        ],
    ),
    case(
        &["missing_effect.csv", "--filter", "outcome=XX"],
        2,
        &["no study is kept by --filter outcome=XX", "PB, SR"],
    ),
    case(
        &["all_missing.csv"],
        2,
        &["no study is left", "'Berg' (vi missing)"],
    ),
    // Moderators that look like misread numbers: pooling ignores them (the
    // note lists them); regress refuses them (tests/real_data.rs, docs/src/errors.md).
    case(
        &["decimal_comma_moderator.csv"],
        0,
        &["columns read as moderators: 'hours'"],
    ),
    case(
        &["nearly_unique.csv"],
        0,
        &["columns read as moderators: 'dose'"],
    ),
    case(
        &["bad_number.csv"],
        2,
        &[
            "bad_number.csv: line 3, column 3 (vi)",
            "expected a number, found \"n/a\"",
            "leave the cell empty",
        ],
    ),
    case(
        &["ragged.csv"],
        2,
        &[
            "ragged.csv: line 3",
            "2 fields but the header has 3",
            "missing or extra comma",
        ],
    ),
    case(
        &["duplicate_header.csv"],
        2,
        &[
            "duplicate_header.csv: line 1, column 4 (yi)",
            "names \"yi\" twice",
            "columns 2 and 4",
        ],
    ),
    case(
        &["unnamed_column.csv"],
        2,
        &[
            "unnamed_column.csv: line 3, column 4",
            "no name in the header but holds \"urban\"",
            "name the column",
        ],
    ),
    case(
        &["empty_label.csv"],
        2,
        &[
            "empty_label.csv: line 3, column 1 (study)",
            "label is empty",
            "every row needs a label",
        ],
    ),
    case(
        &["header_only.csv"],
        2,
        &["header_only.csv:", "holds no studies"],
    ),
    case(
        &["empty.csv"],
        2,
        &["empty.csv: line 1", "the file is empty", "header row"],
    ),
    case(
        &["infinite.csv"],
        2,
        &[
            "infinite.csv: line 2, column 2 (yi)",
            "study 'Ames 2001' (record 1)",
            "yi must be a finite number (got inf)",
        ],
    ),
    case(
        &["latin1.csv"],
        2,
        // Not UTF-8, so read as Windows-1252 (issue 28): the byte 0xE9 is é.
        &[
            "latin1.csv: line 3, column 3 (vi)",
            "expected a number, found \"0é\"",
        ],
    ),
    case(
        &["many_bad.csv"],
        2,
        &[
            "25 bad records",
            "many_bad.csv: line 21, column 3 (vi): study 'Study 20' (record 20)",
            "... and 5 more",
        ],
    ),
    // Effect sizes, one rule per record (src/effect_size.rs)
    case(
        &["generic.json", "--strict"],
        2,
        &[
            "10 bad records",
            "generic.json:2:3: study 'Ames 2001' (record 1): vi is missing: generic data need yi with vi or sei",
            "generic.json:3:38: study 'Berg 2004' (record 2): vi must be > 0 (got -0.04)",
            "study 'Cole 2007' (record 3): sei must be > 0 (got 0)",
            "study 'Dunn 2010' (record 4): vi and sei are both given",
            "study 'Eng 2012' (record 5): these values give yi = 0.15 and vi = 0",
            "study 'Fox 2015' (record 6): no effect data",
            "study 'Gray 2016' (record 7): ci_upper is missing",
            "study 'Hall 2017' (record 8): ci_level must be a percentage between 1 and 100, e.g. 95 (got 0.95); write 95",
            "study 'Ives 2018' (record 9): ci_lower must be below ci_upper = 0.1 (got 0.4); swap",
            "study 'Judd 2019' (record 10): estimate must lie within its CI [0.1, 0.4] (got 0.5)",
        ],
    ),
    case(
        &["ratio_ci.json"],
        2,
        &[
            "ratio_ci.json:3:45: study 'Berg 2004' (record 2): ci_lower must be > 0 for a ratio measure (OR) (got -0.69)",
            "not their logarithms",
        ],
    ),
    case(
        &["continuous.json", "--strict"],
        2,
        &[
            "5 bad records",
            "continuous.json:2:26: study 'Ames 2001' (record 1): n1 must be at least 2 (got 1)",
            "continuous.json:3:47: study 'Berg 2004' (record 2): sd1 must be > 0 (got 0)",
            "study 'Cole 2007' (record 3): sd2 is missing: two-group continuous data need n1, m1, sd1, n2, m2, sd2",
            "study 'Dunn 2010' (record 4): n2 is missing: t-statistic data need t, n1, n2",
            "study 'Eng 2012' (record 5): n2 must be at least 2 (got 1)",
        ],
    ),
    case(
        &["binary.json", "--strict"],
        2,
        &[
            "4 bad records",
            "binary.json:2:26: study 'Ames 2001' (record 1): events1 must be ≥ 0 (got -1)",
            "study 'Berg 2004' (record 2): n1 must be at least 1 (got 0)",
            "study 'Cole 2007' (record 3): events1 cannot exceed n1 = 10 (got 12); n1 and n2 are the groups' total sizes",
            "study 'Dunn 2010' (record 4): n2 is missing: two-group binary data need events1, n1, events2, n2",
        ],
    ),
    // Issue 15: Mantel-Haenszel and Peto need every study's 2x2 table.
    case(
        &["mh_effect_sizes.json", "--method", "MH"],
        2,
        &[
            "mh_effect_sizes.json: study 'Berg 2004' (record 2): --method MH pools the 2x2 tables, so every study needs events1, n1, events2, n2",
        ],
    ),
    case(
        &["mh_no_events.json", "--method", "MH"],
        1,
        &["the Mantel-Haenszel OR does not exist for these studies"],
    ),
    case(
        &["mh_no_events.json", "--method", "PETO"],
        1,
        &["Peto's odds ratio does not exist for these studies"],
    ),
    case(
        &["correlation.json", "--strict"],
        2,
        &[
            "3 bad records",
            "study 'Ames 2001' (record 1): r must lie strictly between -1 and 1 (got 1.2)",
            "study 'Berg 2004' (record 2): n must be more than 3 for Fisher's z",
            "study 'Cole 2007' (record 3): n is missing: correlation data need r, n",
        ],
    ),
    case(
        &["correlation_raw.json"],
        2,
        &["study 'Ames 2001' (record 1): n must be more than 1 (got 1)"],
    ),
    // Rates, transformed proportions, UCOR, ROM (src/effect_size/mod.rs)
    case(
        &["rates.json", "--strict"],
        2,
        &[
            "4 bad records",
            "rates.json:2:26: study 'Ames 2001' (record 1): events1 must be ≥ 0 (got -2)",
            "study 'Berg 2004' (record 2): time1 must be > 0 (got 0)",
            "rates.json:4:68: study 'Cole 2007' (record 3): time2 must be > 0 (got -80)",
            "study 'Dunn 2010' (record 4): time2 is missing: two-group incidence-rate data need events1, time1, events2, time2",
        ],
    ),
    case(
        &["rate.json", "--strict"],
        2,
        &[
            "study 'Ames 2001' (record 1): time must be > 0 (got -120)",
            "study 'Berg 2004' (record 2): events must be ≥ 0 (got -1)",
            "single-proportion data cannot give measure IRLN",
        ],
    ),
    case(
        &["ratio_of_means.json"],
        2,
        &[
            "study 'Ames 2001' (record 1): m1 must be > 0 for the log ratio of means (ROM) (got 0)",
            "study 'Berg 2004' (record 2): m2 must be > 0 for the log ratio of means (ROM) (got -0.4)",
        ],
    ),
    case(
        &["unbiased_correlation.json"],
        2,
        &[
            "study 'Ames 2001' (record 1): n must be more than 4 for the unbiased correlation (UCOR) (got 4)",
        ],
    ),
    case(
        &["transformed_proportion.json", "--strict"],
        2,
        &[
            "study 'Ames 2001' (record 1): events must be ≥ 0 (got -1)",
            "study 'Berg 2004' (record 2): events cannot exceed n = 12 (got 14)",
        ],
    ),
    case(
        &["proportion.json", "--strict"],
        2,
        &[
            "3 bad records",
            "study 'Ames 2001' (record 1): events cannot exceed n = 10 (got 12)",
            "study 'Berg 2004' (record 2): n must be at least 1 (got 0)",
            "study 'Cole 2007' (record 3): n is missing: single-proportion data need events, n",
        ],
    ),
    case(
        &["prepost.json", "--strict"],
        2,
        &[
            "5 bad records",
            "study 'Ames 2001' (record 1): r must lie strictly between -1 and 1 (got 1.2)",
            "study 'Berg 2004' (record 2): n must be more than 2 for the small-sample correction",
            "study 'Cole 2007' (record 3): sd_pre must be > 0 (got 0)",
            "prepost.json:5:3: study 'Dunn 2010' (record 4): r is missing: pre-post data need the correlation r",
            "study 'Eng 2012' (record 5): sd_post is missing: pre-post data need m_pre, m_post, sd_pre, sd_post, n, r",
        ],
    ),
    case(
        &["prepost.json", "--ri", "0.5"],
        2,
        &[
            "3 bad records",
            "study 'Berg 2004' (record 2): n must be more than 2",
        ],
    ),
    case(
        &["means.json", "--strict"],
        2,
        &[
            "4 bad records",
            "study 'Ames 2001' (record 1): m must be > 0 for MNLN, the log of the mean (got -3.2)",
            "study 'Berg 2004' (record 2): sd must be > 0 (got -1.3)",
            "study 'Cole 2007' (record 3): n must be at least 2 (got 1)",
            "study 'Dunn 2010' (record 4): sd is missing: single-mean data need m, sd, n",
        ],
    ),
    // Models (src/model/)
    case(
        &["one_study.json"],
        2,
        &[
            "one_study.json:",
            "1 study cannot be pooled",
            "at least 2",
            "its own estimate",
        ],
    ),
    case(
        &["../../studies/bcg.json", "--max-iter", "1"],
        1,
        &[
            "bcg.json:",
            "the REML estimator did not converge within 1 iteration",
            "last change in tau^2",
            "--max-iter",
            "--fallback DL",
        ],
    ),
    case(
        &[
            "../../studies/bcg.json",
            "--method",
            "ML",
            "--max-iter",
            "2",
        ],
        1,
        &["the ML estimator did not converge within 2 iterations"],
    ),
    case(
        &[
            "../../studies/bcg.json",
            "--method",
            "EB",
            "--max-iter",
            "1",
        ],
        1,
        &["the EB estimator did not converge"],
    ),
    case(
        &[
            "../../studies/bcg.json",
            "--method",
            "PM",
            "--max-iter",
            "5",
        ],
        1,
        &[
            "the PM estimator did not converge within 5 iterations",
            "--method REML",
        ],
    ),
    case(
        &[
            "../../studies/bcg.json",
            "--max-iter",
            "1",
            "--fallback",
            "ML",
        ],
        1,
        &[
            "the REML estimator did not converge within 1 iteration",
            "and the fallback ML did not converge within 1 iteration (last change in tau^2: 1.207e-3) too",
            "--fallback DL",
        ],
    ),
    case(
        &["extreme_heterogeneity.json", "--method", "PM"],
        1,
        &[
            "extreme_heterogeneity.json:",
            "PM estimator found no root",
            "below tau^2 = 100",
            "--method REML",
        ],
    ),
    case(
        &["overflow.json"],
        1,
        &[
            "overflow.json:",
            "the Q statistic is not a finite number",
            "too extreme for double precision",
        ],
    ),
    case(
        &["huge_outcomes.csv"],
        1,
        &[
            "huge_outcomes.csv:",
            "the spread of the outcomes is not a finite number",
            "rescale",
        ],
    ),
    // tr P is summed term by term when it cancels (issue 18), so DL on
    // variances 40 orders apart is exact: -5e36, truncated at 0 (it was -inf).
    case(
        &["../warning_inputs/extreme_variances.csv", "--method", "DL"],
        0,
        &["was negative (-5.0000e+36) and is truncated at 0"],
    ),
    // Robust inference (crates/tau-core/src/robust/)
    case(
        &["robust_clusters.json", "--robust", "site"],
        0,
        &[
            "1 study without a value of the cluster moderator 'site' left out: Ford 2016",
            "the robust t test of 'intrcpt' has 3.56 degrees of freedom (fewer than 4)",
        ],
    ),
    case(
        &["robust_clusters.json", "--robust", "Site"],
        2,
        &[
            "robust_clusters.json: --robust: no study has a moderator named 'Site'",
            "arm, site",
        ],
    ),
    case(
        &[
            "robust_clusters.json",
            "--robust",
            "arm",
            "--filter",
            "arm=usual",
        ],
        2,
        &[
            "every study is in the same cluster ('usual')",
            "at least two clusters",
        ],
    ),
    // Robust inference on a multilevel model (crates/tau-core/src/robust/multilevel.rs)
    case(
        &[
            "robust_multilevel.json",
            "--random",
            "lab/trial",
            "--robust",
            "trial",
        ],
        2,
        &[
            "lab 'North' holds effect sizes of two clusters of 'trial' ('A' and 'B')",
            "must be nested in the robust clusters",
        ],
    ),
    case(
        &[
            "robust_multilevel.json",
            "--random",
            "trial/es",
            "--robust",
            "lab",
            "--rho",
            "0.2,1.5",
        ],
        2,
        &["rho must lie in [0, 1) (got 1.5)"],
    ),
    // Multilevel models (crates/tau-core/src/multilevel/; more in tests/cli_multilevel.rs)
    case(
        &["multilevel.json", "--random", "trial/es_id"],
        0,
        &["1 study without a value for every grouping variable (trial, es_id) left out: Baker 2"],
    ),
    case(
        &["multilevel.json", "--random", "Trial/es_id"],
        2,
        &[
            "multilevel.json: no study has a grouping variable named 'Trial'",
            "es_id, outcome, trial, year",
        ],
    ),
    // Files and flags (src/cli/)
    case(
        &["no_such_file.json"],
        2,
        &["no_such_file.json: cannot read the file: no such file"],
    ),
    case(&["."], 2, &["cannot read the file"]),
    case(
        &["generic.json", "--level", "100"],
        2,
        &["--level", "a percentage between 1 and 100"],
    ),
    case(
        &["generic.json", "--level", "95%"],
        2,
        &["--level", "not a number"],
    ),
    case(
        &["generic.json", "--method", "REM"],
        2,
        &["--method", "REM", "REML"],
    ),
    case(
        &["generic.json", "--max-iter", "0"],
        2,
        &["--max-iter", "0"],
    ),
    case(
        &["generic.json", "--fallback", "XX"],
        2,
        &["--fallback", "XX"],
    ),
    // Issue 15, item 7: user weights and --unweighted.
    case(
        &["weight_zero.json"],
        2,
        &[
            "weight_zero.json:5:52: study 'Berg 2004' (record 2): weight must be a positive, finite number (got 0)",
            "weight_zero.json:6:52: study 'Cole 2009' (record 3): weight must be a positive, finite number (got -12)",
        ],
    ),
    case(
        &["weight_infinite.csv"],
        2,
        &[
            "line 3, column 4 (weight): study 'Berg 2004' (record 2): weight must be a positive, finite number (got inf)",
        ],
    ),
    case(
        &["weight_missing.csv"],
        2,
        &[
            "line 3, column 4 (weight): study 'Berg 2004' (record 2): weight is missing, but study 'Ames 2001' has one",
        ],
    ),
    case(
        &["../../studies/bcg_weighted.json", "--unweighted"],
        2,
        &[
            "bcg_weighted.json: the studies have weights",
            "leave out --unweighted",
        ],
    ),
    case(
        &["../../studies/bcg_weighted.json", "--method", "MH"],
        2,
        &[
            "study 'Aronson 1948' has a weight",
            "--method MH weights the 2x2 tables its own way",
        ],
    ),
    case(
        &[
            "../../studies/bcg_weighted.json",
            "--random",
            "alloc",
            "--robust",
            "alloc",
        ],
        2,
        &["study 'Aronson 1948' has a weight", "without --robust"],
    ),
    case(
        &["../../studies/bcg_weighted.json", "--tau2-ci", "profile"],
        2,
        &["--tau2-ci profile) is not available with user weights"],
    ),
    case(
        &["../../studies/bcg.json", "--method", "PETO", "--unweighted"],
        2,
        &["--unweighted cannot be combined with --method PETO"],
    ),
    case(
        &[
            "../../studies/bcg.json",
            "--random",
            "study",
            "--unweighted",
        ],
        2,
        &["--unweighted cannot be combined with --random"],
    ),
    case(
        &["../../studies/bcg.json", "--robust", "year", "--unweighted"],
        2,
        &["--unweighted cannot be combined with --robust"],
    ),
    case(
        &["../../studies/bcg.json", "-o", "no/such/folder/out.txt"],
        1,
        &[
            "no/such/folder/out.txt: cannot create a temporary file beside it: no such file or folder",
        ],
    ),
];

#[test]
fn every_bad_input_is_a_clear_error() {
    let mut failures = Vec::new();
    for case in CASES {
        let mut args = vec!["pool".to_owned()];
        for (i, arg) in case.args.iter().enumerate() {
            args.push(if i == 0 {
                format!("{BAD}{arg}")
            } else {
                (*arg).to_owned()
            });
        }
        let output = tau()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(&args)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let code = output.status.code();
        let mut problems = Vec::new();
        if code != Some(case.code) {
            problems.push(format!("exit code {code:?}, expected {}", case.code));
        }
        if case.code != 0 && !output.stdout.is_empty() {
            problems.push("wrote to standard output".into());
        }
        if stderr.contains("panicked") {
            problems.push("panicked".into());
        }
        for fragment in case.expect {
            if !stderr.contains(fragment) {
                problems.push(format!("no {fragment:?}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "tau {}: {}\n{stderr}",
                args.join(" "),
                problems.join("; ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every file in tests/bad_inputs/ is exercised by a case above.
#[test]
fn every_bad_input_file_has_a_case() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad_inputs");
    for entry in std::fs::read_dir(dir).expect("tests/bad_inputs") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            CASES.iter().any(|c| c.args.first() == Some(&name.as_str())),
            "{name} has no case"
        );
    }
}
