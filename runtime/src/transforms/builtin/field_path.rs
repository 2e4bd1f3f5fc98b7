//! KIP-821 field paths (`field.syntax.version`): `V1` names a top-level field, `V2` walks
//! nested structs and maps with dots, backticks quoting names that contain dots.

use std::sync::Arc;

use crate::api::{ConnectResult, Field, Schema, Struct, Value};

use super::util::{config_error, map_get, require_map, require_struct};

/// The key `field.syntax.version`.
pub(crate) const FIELD_SYNTAX_VERSION: &str = "field.syntax.version";
/// Its documentation.
pub(crate) const FIELD_SYNTAX_VERSION_DOC: &str = "Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. If set to `V2`, the syntax will support accessing nested elements. To access nested elements, dotted notation is used. If dots are already included in the field name, then backtick pairs can be used to wrap field names containing dots. E.g. to access the subfield `baz` from a field named \"foo.bar\" in a struct/map the following format can be used to access its elements: \"`foo.bar`.baz\".";

/// A parsed path of one or more field names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldPath {
    steps: Vec<String>,
}

impl FieldPath {
    /// Parses `path` by `version` (`V1` or `V2`, any case).
    pub(crate) fn parse(path: &str, version: &str) -> ConnectResult<Self> {
        if version.eq_ignore_ascii_case("V2") { parse_v2(path) } else { Ok(Self { steps: vec![path.to_owned()] }) }
    }

    fn split(&self) -> (&[String], &str) {
        match self.steps.split_last() {
            Some((last, init)) => (init, last),
            None => (&[], ""),
        }
    }

    /// The field at this path in `schema`, if every step exists.
    pub(crate) fn field_from<'a>(&self, schema: &'a Schema) -> Option<&'a Field> {
        let (init, last) = self.split();
        let mut current = schema;
        for step in init {
            current = &current.field(step)?.schema;
        }
        current.field(last)
    }

    /// The value at this path in a struct; null where a step is missing or null.
    pub(crate) fn value_from_struct(&self, value: &Struct, with_default: bool) -> ConnectResult<Value> {
        let (init, last) = self.split();
        let mut current = value;
        for step in init {
            if current.schema().field(step).is_none() {
                return Ok(Value::Null);
            }
            let field_schema: Option<Arc<Schema>> = current.schema().field(step).map(|f| f.schema.clone());
            match current.get(step) {
                None | Some(Value::Null) => return Ok(Value::Null),
                Some(v) => current = require_struct(field_schema.as_deref(), v, "nested field access")?,
            }
        }
        if current.schema().field(last).is_none() {
            return Ok(Value::Null);
        }
        Ok(super::util::field_value(current, last, with_default))
    }

    /// The value at this path in a schemaless map; null where a step is missing or null.
    pub(crate) fn value_from_map(&self, entries: &[(Value, Value)]) -> ConnectResult<Value> {
        let (init, last) = self.split();
        let mut current = entries;
        for step in init {
            match map_get(current, step) {
                None | Some(Value::Null) => return Ok(Value::Null),
                Some(v) => current = require_map(v, "nested field access")?,
            }
        }
        Ok(map_get(current, last).cloned().unwrap_or(Value::Null))
    }
}

fn incomplete(path: &str, at: usize) -> crate::api::ConnectError {
    config_error(
        "field",
        format!(
            "Incomplete backtick pair in path: [{path}], consider adding a backslash before backtick at position {at} to escape it"
        ),
    )
}

/// Kafka's `SingleFieldPath.buildFieldPathV2`, over chars.
fn parse_v2(path: &str) -> ConnectResult<FieldPath> {
    let chars: Vec<char> = path.chars().collect();
    let find = |from: usize, c: char| chars.iter().skip(from).position(|&x| x == c).map(|p| p + from);
    let text = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    let mut steps = Vec::new();
    let mut idx = 0;
    while idx < chars.len() {
        if chars[idx] != '`' {
            let start = idx;
            match find(idx, '.') {
                Some(dot) => {
                    steps.push(text(start, dot));
                    idx = dot + 1;
                }
                None => {
                    steps.push(text(start, chars.len()));
                    idx = chars.len();
                }
            }
            continue;
        }
        let backtick_at = idx;
        idx += 1;
        let mut field = String::new();
        let mut start = idx;
        loop {
            let Some(close) = find(idx, '`') else { return Err(incomplete(path, backtick_at)) };
            idx = close;
            let escaped = chars[idx - 1] == '\\';
            if idx + 1 >= chars.len() {
                if escaped {
                    return Err(incomplete(path, backtick_at));
                }
                field.push_str(&text(start, idx));
                steps.push(field);
                idx += 1;
                break;
            }
            if chars[idx + 1] != '.' {
                idx += 1;
                continue;
            }
            if escaped {
                field.push_str(&text(start, idx - 1));
                field.push('`');
                idx += 1;
                start = idx;
                continue;
            }
            field.push_str(&text(start, idx));
            steps.push(field);
            idx += 2;
            break;
        }
    }
    if path.ends_with('.') {
        steps.push(String::new());
    }
    Ok(FieldPath { steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(p: &str) -> Vec<String> {
        FieldPath::parse(p, "V2").unwrap().steps
    }

    #[test]
    fn v2_splits_on_dots_and_keeps_backticked_dots() {
        assert_eq!(steps("a.b.c"), ["a", "b", "c"]);
        assert_eq!(steps("`foo.bar`.baz"), ["foo.bar", "baz"]);
        assert_eq!(steps("a."), ["a", ""]);
        assert_eq!(steps("`a\\`.b`.c"), ["a`.b", "c"]);
        assert_eq!(FieldPath::parse("a.b", "V1").unwrap().steps, ["a.b"]);
    }

    #[test]
    fn v2_rejects_an_unclosed_backtick() {
        let err = FieldPath::parse("`a.b", "V2").unwrap_err();
        assert!(err.to_string().contains("Incomplete backtick pair in path: [`a.b]"), "{err}");
    }
}
