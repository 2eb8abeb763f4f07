//! Naming which column holds which record field, for sheets whose headers
//! tau does not recognise (`n_exp`, `M_exp`, `SD_exp`): `--columns
//! m1=M_exp,sd1=SD_exp,n1=n_exp` on the command line, or the same list in a
//! comment line at the top of the file, `# columns: m1=M_exp,sd1=SD_exp`.
//! The command line wins where both name one field.

use super::NUMERIC_FIELDS;
use crate::fields::COLUMNS;

/// The fields a column can be mapped to: `study`, `measure`, `reverse` and
/// the numeric fields.
fn is_field(name: &str) -> bool {
    matches!(name, "study" | "measure" | "reverse") || NUMERIC_FIELDS.contains(&name)
}

/// Parses `m1=M_exp,sd1=SD_exp` into (field, column header) pairs.
pub fn parse(spec: &str) -> Result<Vec<(String, String)>, String> {
    spec.split(',')
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| {
            let Some((field, header)) = pair.split_once('=') else {
                return Err(format!(
                    "{} is not of the form FIELD=COLUMN; write e.g. m1=M_exp,sd1=SD_exp",
                    super::quote_bounded(pair.trim())
                ));
            };
            let (field, header) = (field.trim(), header.trim());
            if !is_field(field) {
                let nearest = super::suggest::nearest_fields(field, 1);
                let hint = match nearest.first() {
                    Some(near) => format!(" (did you mean {near}?)"),
                    None => String::new(),
                };
                return Err(format!(
                    "{} is no record field{hint}; the fields are study, measure, reverse, {}",
                    super::quote_bounded(field),
                    NUMERIC_FIELDS.join(", ")
                ));
            }
            if header.is_empty() {
                return Err(format!(
                    "{field}= names no column; write the column's header after the =, e.g. {field}=M_exp"
                ));
            }
            Ok((field.to_owned(), header.to_owned()))
        })
        .collect()
}

/// Applies the mappings (`from_file`, the `# columns:` line, then `given`,
/// the command line's) to `headers`, the canonical names of the columns
/// `raw` (as written): the column a mapping names becomes its field, and the
/// renaming is added to `renamed`. A header is matched as written, then
/// ignoring case and surrounding spaces.
pub fn apply(
    given: &[(String, String)],
    from_file: Option<&str>,
    raw: &[String],
    headers: &mut [String],
    renamed: &mut Vec<(String, String)>,
) -> Result<(), String> {
    let file_pairs = match from_file {
        Some(spec) => parse(spec).map_err(|e| format!("the \"# columns:\" line: {e}"))?,
        None => Vec::new(),
    };
    let pairs = file_pairs
        .iter()
        .filter(|(field, _)| !given.iter().any(|(f, _)| f == field))
        .chain(given);
    for (field, header) in pairs {
        let column = raw
            .iter()
            .position(|h| h == header)
            .or_else(|| {
                raw.iter()
                    .position(|h| h.trim().eq_ignore_ascii_case(header.trim()))
            })
            .ok_or_else(|| {
                format!(
                    "{COLUMNS} {field}={header}: no column is called {}; the columns are {}",
                    super::quote_bounded(header),
                    super::list_bounded(raw)
                )
            })?;
        if headers[column] != *field {
            renamed.retain(|(h, _)| *h != raw[column]);
            renamed.push((raw[column].clone(), field.clone()));
            headers[column] = field.clone();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_parsed_and_checked() {
        assert_eq!(
            parse("m1=M_exp, sd1 = SD_exp").expect("valid"),
            [
                ("m1".to_owned(), "M_exp".to_owned()),
                ("sd1".to_owned(), "SD_exp".to_owned())
            ]
        );
        let err = parse("mean1=M_exp").expect_err("no field");
        assert!(err.contains("\"mean1\" is no record field"), "{err}");
        assert!(parse("m1").expect_err("no =").contains("FIELD=COLUMN"));
    }

    #[test]
    fn the_command_line_wins_over_the_file() {
        let raw: Vec<String> = ["study", "M_exp", "M_ctl"].map(String::from).into();
        let mut headers = raw.clone();
        let mut renamed = Vec::new();
        let given = parse("m1=M_ctl").expect("valid");
        apply(&given, Some("m1=M_exp"), &raw, &mut headers, &mut renamed).expect("valid");
        assert_eq!(headers, ["study", "M_exp", "m1"]);
        assert_eq!(renamed, [("M_ctl".to_owned(), "m1".to_owned())]);
        let err = apply(
            &parse("m2=Mc").expect("valid"),
            None,
            &raw,
            &mut headers,
            &mut renamed,
        )
        .expect_err("no such column");
        assert!(err.contains("no column is called \"Mc\""), "{err}");
    }
}
