//! Parsed values, secrets, errors, and the parsing of one raw value by its key's type.

use std::fmt;

use super::key::{ConfigKey, ConfigType};

/// A secret string. Its `Debug` and `Display` print `[hidden]`, as Kafka Connect's `Password`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself: only for handing to the system that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}
impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}

/// A parsed value.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigValue {
    /// Unset: a null default, or a number left empty where the default is empty.
    Null,
    /// BOOLEAN.
    Bool(bool),
    /// STRING or CLASS.
    String(String),
    /// INT or LONG.
    Long(i64),
    /// DOUBLE.
    Double(f64),
    /// LIST.
    List(Vec<String>),
    /// PASSWORD.
    Password(Password),
}

impl ConfigValue {
    /// The value as Kafka's `ConfigDef.convertToString` writes it in ConfigInfos (lists
    /// comma-joined, passwords hidden); `None` for null.
    pub fn to_kafka_string(&self) -> Option<String> {
        match self {
            Self::Null => None,
            Self::Bool(b) => Some(b.to_string()),
            Self::String(s) => Some(s.clone()),
            Self::Long(n) => Some(n.to_string()),
            Self::Double(d) => Some(java_double(*d)),
            Self::List(items) => Some(items.join(",")),
            Self::Password(_) => Some("[hidden]".to_owned()),
        }
    }

    /// The value as Java's `toString` prints it in a `ConfigException` ("Invalid value X ...").
    pub(super) fn java_display(&self) -> String {
        match self {
            Self::Null => "null".to_owned(),
            Self::List(items) => format!("[{}]", items.join(", ")),
            other => other.to_kafka_string().unwrap_or_default(),
        }
    }

    pub(super) fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Long(v) => Some(*v as f64),
            Self::Double(v) => Some(*v),
            _ => None,
        }
    }
}

/// A problem with one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The key at fault.
    pub key: String,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

/// Every problem found in one configuration, each naming its key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            if e.message.contains(&format!("configuration {}", e.key)) || e.message.contains(&format!("\"{}\"", e.key))
            {
                // Kafka's wording already names the key.
                f.write_str(&e.message)?;
            } else {
                write!(f, "invalid value for '{}': {}", e.key, e.message)?;
            }
        }
        Ok(())
    }
}

impl ConfigErrors {
    /// One error.
    pub fn single(key: &str, message: impl Into<String>) -> Self {
        Self(vec![ConfigError { key: key.to_owned(), message: message.into() }])
    }
}

/// Java's `Double.toString` for ordinary magnitudes: always a fraction digit.
fn java_double(d: f64) -> String {
    if d.fract() == 0.0 && d.abs() < 1e7 { format!("{d:.1}") } else { format!("{d}") }
}

/// Kafka's `ConfigException` wording: "Invalid value X for configuration K: message".
pub(super) fn invalid(name: &str, shown: &str, message: &str) -> String {
    format!("Invalid value {shown} for configuration {name}: {message}")
}

/// Parses one key's raw value (or its default) as Kafka's `ConfigDef.parseForValidate` does,
/// then runs its validators, on null too: the value (`None` for null) and every error message.
pub(super) fn parse_key(key: &ConfigKey, raw: Option<&str>) -> (Option<ConfigValue>, Vec<String>) {
    let mut errors = Vec::new();
    let value = match raw {
        Some(raw) => match parse_type(key, raw) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None if key.required => {
            errors.push(format!("Missing required configuration \"{}\" which has no default value.", key.name));
            None
        }
        None => match &key.default {
            Some(default) => parse_type(key, default).ok(),
            None => Some(ConfigValue::Null),
        },
    };
    let checked = value.as_ref().filter(|v| **v != ConfigValue::Null);
    for v in &key.validators {
        if let Err(m) = v.check(checked) {
            let shown = checked.map_or_else(|| "null".to_owned(), ConfigValue::java_display);
            let shown =
                if key.kind == ConfigType::Password && checked.is_some() { "[hidden]".to_owned() } else { shown };
            errors.push(invalid(key.error_name.as_deref().unwrap_or(&key.name), &shown, &m));
        }
    }
    (value, errors)
}

fn parse_type(key: &ConfigKey, raw: &str) -> Result<ConfigValue, String> {
    let trimmed = raw.trim();
    let bad = |m: &str| {
        let shown = if key.kind == ConfigType::Password { "[hidden]" } else { trimmed };
        invalid(&key.name, shown, m)
    };
    if trimmed.is_empty()
        && key.default.as_deref().is_some_and(|d| d.trim().is_empty())
        && matches!(key.kind, ConfigType::Short | ConfigType::Int | ConfigType::Long | ConfigType::Double)
    {
        // An empty value of a number whose default is empty means "unset".
        return Ok(ConfigValue::Null);
    }
    Ok(match key.kind {
        ConfigType::Boolean => match trimmed.to_ascii_lowercase().as_str() {
            "true" => ConfigValue::Bool(true),
            "false" => ConfigValue::Bool(false),
            _ => return Err(bad("Expected value to be either true or false")),
        },
        ConfigType::Class => match &key.classes {
            Some(check) if !(check.0)(trimmed) => return Err(bad(&format!("Class {trimmed} could not be found."))),
            _ => ConfigValue::String(trimmed.to_owned()),
        },
        ConfigType::String => ConfigValue::String(trimmed.to_owned()),
        ConfigType::Password => ConfigValue::Password(Password::new(raw)),
        ConfigType::Short => match trimmed.parse::<i16>() {
            Ok(v) => ConfigValue::Long(v.into()),
            Err(_) => return Err(bad("Not a number of type SHORT")),
        },
        ConfigType::Int => match trimmed.parse::<i32>() {
            Ok(v) => ConfigValue::Long(v.into()),
            Err(_) => return Err(bad("Not a number of type INT")),
        },
        ConfigType::Long => match trimmed.parse::<i64>() {
            Ok(v) => ConfigValue::Long(v),
            Err(_) => return Err(bad("Not a number of type LONG")),
        },
        ConfigType::Double => match trimmed.parse::<f64>() {
            Ok(v) if v.is_finite() => ConfigValue::Double(v),
            _ => return Err(bad("Not a number of type DOUBLE")),
        },
        ConfigType::List => {
            ConfigValue::List(trimmed.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        }
    })
}
