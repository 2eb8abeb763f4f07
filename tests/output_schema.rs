//! `tau schema --output` documents the JSON of every report (issue 24): each
//! command of tests/schema/commands.tsv writes JSON that its report's
//! definition accepts (no key missing that is required, none undocumented,
//! every value of its documented type). The schema itself is made by
//! tests/schema/make_output_schema.py; a new or renamed key fails here
//! until the schema (and the book's changelog) say so.

use crate::util::tau;
use serde_json::Value;

/// Checks `value` against `schema` (the subset of JSON Schema the output
/// schema uses: type, properties, required, additionalProperties, items,
/// $ref, oneOf), pushing a message per mismatch, each with its JSON path.
fn check(value: &Value, schema: &Value, root: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/$defs/");
        return check(value, &root["$defs"][name], root, path, errors);
    }
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if !allowed.contains(&actual) {
            errors.push(format!("{path}: {actual}, documented as {allowed:?}"));
            return;
        }
    }
    match value {
        Value::Object(object) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            for key in schema["required"].as_array().into_iter().flatten() {
                let key = key.as_str().unwrap_or_default();
                if !object.contains_key(key) {
                    errors.push(format!("{path}: required key {key:?} missing"));
                }
            }
            for (key, inner) in object {
                match properties.and_then(|p| p.get(key)) {
                    Some(sub) => check(inner, sub, root, &format!("{path}.{key}"), errors),
                    None if schema["additionalProperties"] == Value::Bool(false) => {
                        errors.push(format!("{path}: key {key:?} is not in the schema"));
                    }
                    None => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = schema.get("items") {
                for (i, inner) in items.iter().enumerate() {
                    check(inner, item, root, &format!("{path}[{i}]"), errors);
                }
            }
        }
        _ => {}
    }
}

fn output_schema() -> Value {
    let out = tau().args(["schema", "--output"]).output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_report_matches_the_output_schema() {
    let schema = output_schema();
    let commands = std::fs::read_to_string("tests/schema/commands.tsv").unwrap();
    let mut errors = Vec::new();
    for line in commands
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (kind, args) = line.split_once('\t').unwrap();
        let args: Vec<&str> = shell_words(args);
        let out = tau()
            .args(&args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tau {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let definition = &schema["$defs"][kind];
        assert!(definition.is_object(), "no definition {kind} in the schema");
        check(
            &json,
            definition,
            &schema,
            &format!("tau {}", args.join(" ")),
            &mut errors,
        );
    }
    assert!(
        errors.is_empty(),
        "outputs the schema does not document (rerun python3 tests/schema/make_output_schema.py and say in docs/src/changelog.md what changed):\n{}",
        errors.join("\n")
    );
}

/// The arguments of a line of commands.tsv: words split at spaces (the
/// file quotes nothing).
fn shell_words(args: &str) -> Vec<&str> {
    args.split_whitespace().collect()
}

/// Every key the schema documents at the top level of a report has one
/// meaning: where two reports both have a key, they describe it alike.
#[test]
fn one_description_per_key() {
    let schema = output_schema();
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    for definition in schema["$defs"].as_object().unwrap().values() {
        for (key, property) in definition["properties"].as_object().unwrap() {
            if let Some(description) = property["description"].as_str() {
                let earlier = seen
                    .entry(key.clone())
                    .or_insert_with(|| description.to_owned());
                assert_eq!(earlier, description, "{key}");
            }
        }
    }
    // The heterogeneity test has one name in every report (metafor's QE).
    assert!(!seen.contains_key("Q"), "Q is documented besides QE");
}
