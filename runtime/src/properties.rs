//! Java `.properties` files, read as `java.util.Properties` reads them: `#` and `!` comments,
//! `key=value`, `key: value` or `key value`, backslash line continuations and escapes
//! (`\t`, `\n`, `\uXXXX`...). Worker and connector files use this format in Kafka Connect.

use std::collections::BTreeMap;

/// A malformed properties file.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct PropertiesError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses the text of a properties file; a later key replaces an earlier one.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, PropertiesError> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((n, raw)) = lines.next() {
        let first = raw.trim_start();
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        let mut logical = String::from(first);
        while ends_with_continuation(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        let key = unescape(key).map_err(|message| PropertiesError { line: n + 1, message })?;
        let value = unescape(value).map_err(|message| PropertiesError { line: n + 1, message })?;
        out.insert(key, value);
    }
    Ok(out)
}

fn ends_with_continuation(s: &str) -> bool {
    s.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

fn split_key_value(line: &str) -> (&str, &str) {
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' => return (&line[..i], line[i + 1..].trim_start()),
            c if c.is_whitespace() => {
                let rest = line[i..].trim_start();
                let rest = rest.strip_prefix(['=', ':']).map_or(rest, str::trim_start);
                return (&line[..i], rest);
            }
            _ => {}
        }
    }
    (line, "")
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)
                    .ok_or_else(|| format!("malformed \\uxxxx escape \"\\u{hex}\""))?;
                out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_java_properties_syntax() {
        let text = "# comment\n! also\nname = local-file-source\nconnector.class:FileStreamSource\n\
                    tasks.max 1\nfile=/tmp/a\\\n   b.txt\npath=C:\\\\dir\\tx\nuni=\\u00e9\nempty\n";
        let p = parse(text).unwrap();
        assert_eq!(p["name"], "local-file-source");
        assert_eq!(p["connector.class"], "FileStreamSource");
        assert_eq!(p["tasks.max"], "1");
        assert_eq!(p["file"], "/tmp/ab.txt");
        assert_eq!(p["path"], "C:\\dir\tx");
        assert_eq!(p["uni"], "é");
        assert_eq!(p["empty"], "");
    }

    #[test]
    fn bad_unicode_escape_names_the_line() {
        let err = parse("a=1\nb=\\u12\n").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
