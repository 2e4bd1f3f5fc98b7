//! Java `java.util.regex` semantics over the `regex` crate, for RegexRouter and
//! TopicNameMatches: `Matcher.matches()` (the whole topic), `replaceFirst` with Java's
//! replacement syntax (`$1`, `${name}`, `\$`).
//!
//! The `regex` crate has no look-around, backreferences, possessive quantifiers or atomic
//! groups; a pattern using them is rejected at configuration with a message saying so, rather
//! than matching differently. `\Q...\E` quoting is translated.

use regex::Regex;

/// A compiled pattern.
#[derive(Clone, Debug)]
pub(crate) struct JavaRegex {
    whole: Regex,
    find: Regex,
}

const JAVA_ONLY: &[&str] = &["(?=", "(?!", "(?<=", "(?<!", "(?>", "++", "*+", "?+", "}+", "\\k<", "\\G", "\\Z"];

/// Translates `\Q...\E` quoting, which the regex crate lacks.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(i) = rest.find("\\Q") {
        // An escaped backslash before \Q (`\\Q`) is a literal backslash and a Q.
        let escaped = rest[..i].chars().rev().take_while(|&c| c == '\\').count() % 2 == 1;
        out.push_str(&rest[..i]);
        if escaped {
            out.push_str("\\Q");
            rest = &rest[i + 2..];
            continue;
        }
        let quoted_end = rest[i + 2..].find("\\E").map(|e| e + i + 2);
        let quoted = &rest[i + 2..quoted_end.unwrap_or(rest.len())];
        out.push_str(&regex::escape(quoted));
        rest = quoted_end.map_or("", |e| &rest[e + 2..]);
    }
    out.push_str(rest);
    out
}

impl JavaRegex {
    /// Compiles `pattern`; the error is the message after Kafka's "Invalid regex: ".
    pub(crate) fn compile(pattern: &str) -> Result<Self, String> {
        let translated = translate(pattern);
        let build = |p: &str| Regex::new(p);
        match (build(&format!(r"\A(?:{translated})\z")), build(&translated)) {
            (Ok(whole), Ok(find)) => Ok(Self { whole, find }),
            (Err(e), _) | (_, Err(e)) => {
                let backreference =
                    pattern.as_bytes().windows(2).any(|w| w[0] == b'\\' && w[1].is_ascii_digit() && w[1] != b'0');
                if backreference || JAVA_ONLY.iter().any(|j| pattern.contains(j)) {
                    Err(format!(
                        "{pattern} uses Java regex syntax Tributary does not support (look-around, backreferences, possessive quantifiers, atomic groups, \\G or \\Z): {e}"
                    ))
                } else {
                    Err(e.to_string())
                }
            }
        }
    }

    /// Java's `Matcher.matches()`: the whole text matches.
    pub(crate) fn matches(&self, text: &str) -> bool {
        self.whole.is_match(text)
    }

    /// Java's `Matcher.replaceFirst(replacement)`.
    pub(crate) fn replace_first(&self, text: &str, replacement: &str) -> Result<String, String> {
        let Some(caps) = self.find.captures(text) else { return Ok(text.to_owned()) };
        let Some(m) = caps.get(0) else { return Ok(text.to_owned()) };
        let mut out = String::with_capacity(text.len() + replacement.len());
        out.push_str(&text[..m.start()]);
        self.expand(&caps, replacement, &mut out)?;
        out.push_str(&text[m.end()..]);
        Ok(out)
    }

    /// Appends `replacement` with its group references resolved, as Java's
    /// `Matcher.appendReplacement` does, failing where Java throws.
    fn expand(&self, caps: &regex::Captures<'_>, replacement: &str, out: &mut String) -> Result<(), String> {
        let chars: Vec<char> = replacement.chars().collect();
        let groups = self.find.captures_len() - 1;
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '\\' => {
                    let c = chars.get(i + 1).ok_or("character to be escaped is missing")?;
                    out.push(*c);
                    i += 2;
                }
                '$' => {
                    i += 1;
                    let group = match chars.get(i) {
                        None => return Err("Illegal group reference: group index is missing".into()),
                        Some('{') => {
                            let end = chars[i..]
                                .iter()
                                .position(|&c| c == '}')
                                .ok_or("named capturing group is missing trailing '}'")?;
                            let name: String = chars[i + 1..i + end].iter().collect();
                            i += end + 1;
                            if name.is_empty() {
                                return Err("named capturing group has 0 length name".into());
                            }
                            match caps.name(&name) {
                                Some(m) => m.as_str(),
                                None if self.find.capture_names().flatten().any(|n| n == name) => "",
                                None => return Err(format!("No group with name {{{name}}}")),
                            }
                        }
                        Some(c) if c.is_ascii_digit() => {
                            let mut n = c.to_digit(10).map_or(0, |d| d as usize);
                            i += 1;
                            while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                                let next = n * 10 + d as usize;
                                if next > groups {
                                    break;
                                }
                                n = next;
                                i += 1;
                            }
                            if n > groups {
                                return Err(format!("No group {n}"));
                            }
                            caps.get(n).map_or("", |m| m.as_str())
                        }
                        Some(_) => return Err("Illegal group reference".into()),
                    };
                    out.push_str(group);
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_first_follows_java_group_references() {
        let r = JavaRegex::compile("(.*)s").unwrap();
        assert!(r.matches("orders"));
        assert_eq!(r.replace_first("orders", "$1-routed").unwrap(), "order-routed");
        let r = JavaRegex::compile(r"logs-(\d+)").unwrap();
        assert_eq!(r.replace_first("logs-2024", r"a_$1_\$").unwrap(), "a_2024_$");
        assert_eq!(r.replace_first("logs-2024", "$12").unwrap(), "20242");
        assert_eq!(r.replace_first("logs-2024", "$x").unwrap_err(), "Illegal group reference");
        let r = JavaRegex::compile("(?<name>[a-z]+)").unwrap();
        assert_eq!(r.replace_first("ab-c", "${name}!").unwrap(), "ab!-c");
    }

    #[test]
    fn whole_match_differs_from_find() {
        let r = JavaRegex::compile("e").unwrap();
        assert!(!r.matches("events"));
        assert!(JavaRegex::compile(r"\Qa.b\E").unwrap().matches("a.b"));
        assert!(!JavaRegex::compile(r"\Qa.b\E").unwrap().matches("axb"));
    }

    #[test]
    fn java_only_syntax_is_rejected_with_a_clear_message() {
        let err = JavaRegex::compile("a(?=b)").unwrap_err();
        assert!(err.contains("Java regex syntax Tributary does not support"), "{err}");
        assert!(JavaRegex::compile("(").is_err());
    }
}
