//! The part of Java's JAAS login configuration syntax that Kafka Connect's basic auth uses:
//!
//! ```text
//! // comment
//! KafkaConnect {
//!   org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
//!     file="/etc/tributary/credentials.properties";
//! };
//! ```
//!
//! Entries are `Name { ModuleClass Flag option=value ...; ... };` with `//`, `/* */` and `#`
//! comments and values quoted with `"` or written bare. Only the `KafkaConnect` entry is read.

/// The login module Kafka Connect's basic auth extension uses.
pub(crate) const PROPERTY_FILE_LOGIN_MODULE: &str =
    "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule";
/// The JAAS entry Kafka Connect looks up.
pub(crate) const ENTRY: &str = "KafkaConnect";

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
    Semi,
    Eq,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '{' => out.push(Token::Open),
            '}' => out.push(Token::Close),
            ';' => out.push(Token::Semi),
            '=' => out.push(Token::Eq),
            '#' => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                let mut closed = false;
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        closed = true;
                        break;
                    }
                    prev = n;
                }
                if !closed {
                    return Err("unterminated /* comment".to_owned());
                }
            }
            '"' => {
                let mut s = String::new();
                let mut closed = false;
                while let Some(n) = chars.next() {
                    match n {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => {
                            if let Some(e) = chars.next() {
                                s.push(e);
                            }
                        }
                        other => s.push(other),
                    }
                }
                if !closed {
                    return Err("unterminated quoted value".to_owned());
                }
                out.push(Token::Quoted(s));
            }
            other => {
                let mut s = String::from(other);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || matches!(n, '{' | '}' | ';' | '=' | '"') {
                        break;
                    }
                    s.push(n);
                    chars.next();
                }
                out.push(Token::Word(s));
            }
        }
    }
    Ok(out)
}

/// One login module line of an entry.
#[derive(Debug, PartialEq)]
struct Module {
    class: String,
    flag: String,
    options: Vec<(String, String)>,
}

fn parse(text: &str) -> Result<Vec<(String, Vec<Module>)>, String> {
    let tokens = tokenize(text)?;
    let mut it = tokens.into_iter().peekable();
    let mut entries = Vec::new();
    while let Some(t) = it.next() {
        let Token::Word(name) = t else {
            return Err(format!("expected an entry name, found {t:?}"));
        };
        if it.next() != Some(Token::Open) {
            return Err(format!("expected '{{' after entry name {name}"));
        }
        let mut modules = Vec::new();
        loop {
            match it.next() {
                Some(Token::Close) => break,
                Some(Token::Word(class)) => {
                    let flag = match it.next() {
                        Some(Token::Word(f)) => f,
                        other => return Err(format!("expected a control flag after {class}, found {other:?}")),
                    };
                    if !["required", "requisite", "sufficient", "optional"]
                        .contains(&flag.to_ascii_lowercase().as_str())
                    {
                        return Err(format!(
                            "unknown control flag '{flag}' for {class} (required, requisite, sufficient, optional)"
                        ));
                    }
                    let mut options = Vec::new();
                    loop {
                        match it.next() {
                            Some(Token::Semi) => break,
                            Some(Token::Word(key)) => {
                                if it.next() != Some(Token::Eq) {
                                    return Err(format!("expected '=' after option {key} of {class}"));
                                }
                                match it.next() {
                                    Some(Token::Word(v) | Token::Quoted(v)) => options.push((key, v)),
                                    other => return Err(format!("expected a value for option {key}, found {other:?}")),
                                }
                            }
                            other => return Err(format!("expected an option or ';' in {class}, found {other:?}")),
                        }
                    }
                    modules.push(Module { class, flag, options });
                }
                other => return Err(format!("expected a login module or '}}' in entry {name}, found {other:?}")),
            }
        }
        if it.peek() == Some(&Token::Semi) {
            it.next();
        }
        entries.push((name, modules));
    }
    Ok(entries)
}

/// The credentials file named by the `KafkaConnect` entry's PropertyFileLoginModule.
pub(crate) fn credentials_file(text: &str) -> Result<String, String> {
    let entries = parse(text)?;
    let Some((_, modules)) = entries.into_iter().find(|(n, _)| n == ENTRY) else {
        return Err(format!("no {ENTRY} entry"));
    };
    let [module] = modules.as_slice() else {
        return Err(format!(
            "the {ENTRY} entry must hold exactly one login module, {PROPERTY_FILE_LOGIN_MODULE}; it holds {}",
            modules.len()
        ));
    };
    if module.class != PROPERTY_FILE_LOGIN_MODULE {
        return Err(format!(
            "login module {} is not supported; Tributary reads {PROPERTY_FILE_LOGIN_MODULE}",
            module.class
        ));
    }
    match module.options.iter().find(|(k, _)| k == "file") {
        Some((_, f)) if !f.trim().is_empty() => Ok(f.clone()),
        _ => Err("Property Credentials file must be specified (option file=\"PATH\")".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kafka_connects_example() {
        let text = r#"
            // from Kafka's docs
            OtherEntry { com.example.Module optional; };
            KafkaConnect {
                org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
                /* the credentials */ file="/etc/kafka/connect.password" debug=true;
            };
        "#;
        assert_eq!(credentials_file(text).unwrap(), "/etc/kafka/connect.password");
        let bare = "KafkaConnect{org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required file=/a/b;}";
        assert_eq!(credentials_file(bare).unwrap(), "/a/b");
    }

    #[test]
    fn explains_what_is_wrong() {
        assert!(credentials_file("Other { a.B required; };").unwrap_err().contains("no KafkaConnect entry"));
        assert!(
            credentials_file("KafkaConnect { com.example.Ldap required url=x; };")
                .unwrap_err()
                .contains("not supported")
        );
        assert!(
            credentials_file(
                "KafkaConnect { org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required; };"
            )
            .unwrap_err()
            .contains("must be specified")
        );
        assert!(credentials_file("KafkaConnect { x.Y mandatory; };").unwrap_err().contains("unknown control flag"));
        assert!(credentials_file("KafkaConnect { x.Y required file=\"/a ;").unwrap_err().contains("unterminated"));
        assert!(credentials_file("KafkaConnect  x.Y required; };").unwrap_err().contains("expected '{'"));
    }
}
