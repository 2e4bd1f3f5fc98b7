//! The source's choice of Kafka topic for an MQTT topic: `kafka.topic` (fixed, or a template
//! with `${topic}`), or, with `kafka.topic.regex`, a replacement built from the groups of a
//! regular expression matched against the whole MQTT topic:
//!
//! ```properties
//! kafka.topic.regex=sensors/(\\w+)/temp
//! kafka.topic.replacement=temp.$1
//! # sensors/kitchen/temp -> temp.kitchen; sensors/kitchen/humidity -> kafka.topic
//! kafka.topic=mqtt.unmatched
//! ```
//!
//! (In a .properties file `\` escapes, hence `\\w` for the regex `\w`.) Group values are made
//! Kafka-safe the way `${topic}` is: `/` becomes `kafka.topic.slash.replacement`, any other
//! character Kafka does not allow becomes `_`.

use regex::Regex;
use tributary_runtime::api::{Config, ConfigErrors, ConnectError};

use super::config::{KAFKA_TOPIC, SLASH_REPLACEMENT, TOPIC_REGEX, TOPIC_REGEX_UNMATCHED, TOPIC_REPLACEMENT};
use super::topic;

/// Longest Kafka topic name.
const MAX_TOPIC: usize = 249;

/// One piece of `kafka.topic.replacement`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Index(usize),
    Name(String),
}

/// What `kafka.topic.regex` adds.
#[derive(Clone, Debug)]
struct RegexRule {
    /// The configured expression, for messages.
    source: String,
    /// The same, anchored at both ends.
    regex: Regex,
    replacement: Vec<Part>,
    /// Unmatched MQTT topics are a data error instead of going to `kafka.topic`.
    fail_unmatched: bool,
}

/// How the source names the Kafka topic of a message.
#[derive(Clone, Debug, Default)]
pub(super) struct TopicMap {
    template: String,
    slash: char,
    rule: Option<RegexRule>,
}

/// Parses `$N`, `${N}`, `${name}` and `$$` in a replacement.
fn parse_replacement(s: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            literal.push(c);
            continue;
        }
        let group = match chars.peek().map(|&(_, c)| c) {
            Some('$') => {
                chars.next();
                literal.push('$');
                continue;
            }
            Some('{') => {
                let Some(end) = s[i..].find('}') else {
                    return Err(format!("'{s}' has a ${{ without its closing }}"));
                };
                let name = &s[i + 2..i + end];
                while chars.peek().is_some_and(|&(j, _)| j <= i + end) {
                    chars.next();
                }
                match name.parse::<usize>() {
                    Ok(n) => Part::Index(n),
                    Err(_) if !name.is_empty() => Part::Name(name.to_owned()),
                    Err(_) => return Err(format!("'{s}' has an empty group reference ${{}}")),
                }
            }
            Some(d) if d.is_ascii_digit() => {
                let mut n = String::new();
                while let Some(&(_, d)) = chars.peek().filter(|(_, d)| d.is_ascii_digit()) {
                    n.push(d);
                    chars.next();
                }
                Part::Index(n.parse().map_err(|_| format!("'{s}' has a group number that is too large"))?)
            }
            _ => return Err(format!("'{s}' has a $ that is not $N, ${{N}}, ${{name}} or $$")),
        };
        if !literal.is_empty() {
            parts.push(Part::Literal(std::mem::take(&mut literal)));
        }
        parts.push(group);
    }
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Ok(parts)
}

fn legal(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Checks `kafka.topic.regex` alone (it compiles), for the key's validator.
pub(super) fn check_regex(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    Regex::new(&format!("^(?:{s})$")).map(|_| ()).map_err(|e| format!("'{s}' is not a valid regular expression: {e}"))
}

impl TopicMap {
    /// The mapping a source configuration sets; errors name the key and the problem.
    pub(super) fn from_config(c: &Config) -> Result<Self, ConfigErrors> {
        let template = c.string(KAFKA_TOPIC);
        let slash = c.string(SLASH_REPLACEMENT).chars().next().unwrap_or('.');
        let (regex, replacement) = (c.string(TOPIC_REGEX), c.string(TOPIC_REPLACEMENT));
        let rule = match (regex.is_empty(), replacement.is_empty()) {
            (true, true) => None,
            (true, false) => {
                return Err(ConfigErrors::single(TOPIC_REPLACEMENT, "is set but kafka.topic.regex is empty: set both"));
            }
            (false, true) => {
                return Err(ConfigErrors::single(
                    TOPIC_REPLACEMENT,
                    "kafka.topic.regex is set: give the Kafka topic for matching MQTT topics, e.g. temp.$1",
                ));
            }
            (false, false) => Some(Self::rule(&regex, &replacement, c)?),
        };
        Ok(Self { template, slash, rule })
    }

    fn rule(source: &str, replacement: &str, c: &Config) -> Result<RegexRule, ConfigErrors> {
        let regex = Regex::new(&format!("^(?:{source})$")).map_err(|e| {
            ConfigErrors::single(TOPIC_REGEX, format!("'{source}' is not a valid regular expression: {e}"))
        })?;
        let parts = parse_replacement(replacement).map_err(|e| ConfigErrors::single(TOPIC_REPLACEMENT, e))?;
        for part in &parts {
            let problem = match part {
                Part::Literal(l) => l.chars().find(|c| !legal(*c)).map(|c| {
                    format!(
                        "'{replacement}' contains '{c}', which Kafka topic names do not allow (only a-z A-Z 0-9 . _ -)"
                    )
                }),
                Part::Index(n) if *n >= regex.captures_len() => Some(format!(
                    "'{replacement}' refers to group {n}, but kafka.topic.regex '{source}' has {} group(s)",
                    regex.captures_len() - 1
                )),
                Part::Name(name) if !regex.capture_names().flatten().any(|n| n == name) => Some(format!(
                    "'{replacement}' refers to the group '{name}', which kafka.topic.regex '{source}' does not name"
                )),
                _ => None,
            };
            if let Some(p) = problem {
                return Err(ConfigErrors::single(TOPIC_REPLACEMENT, p));
            }
        }
        Ok(RegexRule {
            source: source.to_owned(),
            regex,
            replacement: parts,
            fail_unmatched: c.string(TOPIC_REGEX_UNMATCHED).eq_ignore_ascii_case("fail"),
        })
    }

    /// The Kafka topic for a message on `mqtt_topic`; a data error when the regex does not
    /// match and `kafka.topic.regex.unmatched=fail`, or when the result is no valid topic name.
    pub(super) fn kafka_topic(&self, mqtt_topic: &str) -> Result<String, ConnectError> {
        let Some(rule) = &self.rule else { return Ok(topic::kafka_topic(&self.template, mqtt_topic, self.slash)) };
        let Some(caps) = rule.regex.captures(mqtt_topic) else {
            if rule.fail_unmatched {
                return Err(ConnectError::data(format!(
                    "the MQTT topic '{mqtt_topic}' does not match kafka.topic.regex '{}' (kafka.topic.regex.unmatched=fail)",
                    rule.source
                )));
            }
            return Ok(topic::kafka_topic(&self.template, mqtt_topic, self.slash));
        };
        let mut out = String::new();
        for part in &rule.replacement {
            let group = match part {
                Part::Literal(l) => {
                    out.push_str(l);
                    continue;
                }
                Part::Index(n) => caps.get(*n),
                Part::Name(name) => caps.name(name),
            };
            let text = group.map_or("", |m| m.as_str());
            out.extend(text.chars().map(|c| match c {
                '/' => self.slash,
                c if legal(c) => c,
                _ => '_',
            }));
        }
        if out.is_empty() || out == "." || out == ".." || out.len() > MAX_TOPIC {
            return Err(ConnectError::data(format!(
                "the MQTT topic '{mqtt_topic}' maps through kafka.topic.regex '{}' to '{out:.60}', which is not a valid Kafka topic name (empty, . or .., or longer than {MAX_TOPIC})",
                rule.source
            )));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use tributary_runtime::api::Props;

    use super::*;

    fn map(pairs: &[(&str, &str)]) -> Result<TopicMap, ConfigErrors> {
        let mut props: Props = [("mqtt.server.uri", "tcp://h:1"), ("mqtt.topics", "#"), ("kafka.topic", "other")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        props.extend(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        TopicMap::from_config(&super::super::config::source_config_def().parse(&props)?)
    }

    #[test]
    fn maps_groups_into_the_replacement() {
        let m = map(&[("kafka.topic.regex", r"sensors/(\w+)/temp"), ("kafka.topic.replacement", "temp.$1")]).unwrap();
        assert_eq!(m.kafka_topic("sensors/kitchen/temp").unwrap(), "temp.kitchen");
        let m = map(&[
            ("kafka.topic.regex", r"(?P<site>[^/]+)/(.+)"),
            ("kafka.topic.replacement", "s-${site}.${2}$$"),
            ("kafka.topic.slash.replacement", "_"),
        ]);
        assert!(m.unwrap_err().to_string().contains("'$'"), "a $ in the result is no legal topic name");
        let m = map(&[
            ("kafka.topic.regex", r"(?P<site>[^/]+)/(.+)"),
            ("kafka.topic.replacement", "s-${site}.${2}"),
            ("kafka.topic.slash.replacement", "_"),
        ])
        .unwrap();
        assert_eq!(m.kafka_topic("paris/a/b c").unwrap(), "s-paris.a_b_c");
    }

    #[test]
    fn the_whole_topic_must_match_and_unmatched_topics_go_to_kafka_topic_or_fail() {
        let rule = [("kafka.topic.regex", r"sensors/(\w+)/temp"), ("kafka.topic.replacement", "temp.$1")];
        let m = map(&rule).unwrap();
        assert_eq!(m.kafka_topic("x/sensors/a/temp/y").unwrap(), "other");
        assert_eq!(m.kafka_topic("sensors/a/humidity").unwrap(), "other");
        let m = map(&[&rule[..], &[("kafka.topic.regex.unmatched", "fail")]].concat()).unwrap();
        let e = m.kafka_topic("sensors/a/humidity").unwrap_err();
        assert_eq!(e.kind(), tributary_runtime::api::ErrorKind::Data);
        assert!(e.to_string().contains("'sensors/a/humidity' does not match kafka.topic.regex"), "{e}");
    }

    #[test]
    fn an_empty_result_is_a_data_error() {
        let m = map(&[("kafka.topic.regex", r"a/(\w*)"), ("kafka.topic.replacement", "$1")]).unwrap();
        assert!(m.kafka_topic("a/").unwrap_err().to_string().contains("not a valid Kafka topic name"));
    }

    #[test]
    fn bad_rules_name_the_key_and_the_problem() {
        let err = |pairs: &[(&str, &str)]| map(pairs).unwrap_err().to_string();
        let e = err(&[("kafka.topic.regex", "sensors/(+"), ("kafka.topic.replacement", "t")]);
        assert!(e.contains("kafka.topic.regex") && e.contains("not a valid regular expression"), "{e}");
        let e = err(&[("kafka.topic.regex", "s/(a)"), ("kafka.topic.replacement", "t.$2")]);
        assert!(
            e.contains("kafka.topic.replacement") && e.contains("refers to group 2") && e.contains("1 group"),
            "{e}"
        );
        let e = err(&[("kafka.topic.regex", "s/(a)"), ("kafka.topic.replacement", "t.${x}")]);
        assert!(e.contains("the group 'x'"), "{e}");
        let e = err(&[("kafka.topic.regex", "s/(a)"), ("kafka.topic.replacement", "t/$1")]);
        assert!(e.contains("contains '/'"), "{e}");
        let e = err(&[("kafka.topic.regex", "s/(a)")]);
        assert!(e.contains("kafka.topic.replacement"), "{e}");
        let e = err(&[("kafka.topic.replacement", "t")]);
        assert!(e.contains("kafka.topic.regex is empty"), "{e}");
        let e = err(&[("kafka.topic.regex", "s/(a)"), ("kafka.topic.replacement", "t.$x")]);
        assert!(e.contains("not $N"), "{e}");
    }

    #[test]
    fn parses_replacements() {
        use Part::*;
        assert_eq!(
            parse_replacement("a$1b${12}c${n}$$").unwrap(),
            [
                Literal("a".into()),
                Index(1),
                Literal("b".into()),
                Index(12),
                Literal("c".into()),
                Name("n".into()),
                Literal("$".into())
            ]
        );
        assert!(parse_replacement("a${1").is_err());
        assert!(parse_replacement("a$").is_err());
    }
}
