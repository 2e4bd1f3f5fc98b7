//! One declared key: its type, default, importance, documentation, display metadata
//! (group, order, width, display name, as Kafka's `ConfigDef.ConfigKey`) and validators.

use std::fmt;
use std::sync::Arc;

use super::value::ConfigValue;

/// A key's type, named as Kafka Connect names it in ConfigInfos.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigType {
    /// `true` or `false` (case-insensitive).
    Boolean,
    /// Any string.
    String,
    /// 16-bit integer.
    Short,
    /// 32-bit integer.
    Int,
    /// 64-bit integer.
    Long,
    /// Floating point.
    Double,
    /// Comma-separated list, items trimmed.
    List,
    /// A class or plugin name.
    Class,
    /// A secret string, never printed.
    Password,
}

impl ConfigType {
    /// Upper-case name as in Kafka Connect (`STRING`, `INT`...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Boolean => "BOOLEAN",
            Self::String => "STRING",
            Self::Short => "SHORT",
            Self::Int => "INT",
            Self::Long => "LONG",
            Self::Double => "DOUBLE",
            Self::List => "LIST",
            Self::Class => "CLASS",
            Self::Password => "PASSWORD",
        }
    }
}

/// How much a user should care about a key (ordered as Kafka orders them: high first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Importance {
    /// Most users set it.
    High,
    /// Some users set it.
    Medium,
    /// Rarely changed.
    Low,
}

impl Importance {
    /// Upper-case name as in Kafka Connect.
    pub fn name(self) -> &'static str {
        match self {
            Self::High => "HIGH",
            Self::Medium => "MEDIUM",
            Self::Low => "LOW",
        }
    }
}

/// How wide a UI should draw the key's input (Kafka's `ConfigDef.Width`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Width {
    /// No hint.
    #[default]
    None,
    /// A short value.
    Short,
    /// A medium value.
    Medium,
    /// A long value.
    Long,
}

impl Width {
    /// Upper-case name as in Kafka Connect.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Short => "SHORT",
            Self::Medium => "MEDIUM",
            Self::Long => "LONG",
        }
    }
}

/// A check written as code: gets the parsed value (`None` for Java's null: a missing key with
/// a null default, or a value that failed to parse) and returns the message that follows
/// "Invalid value X for configuration K: ".
pub type CheckFn = dyn Fn(Option<&ConfigValue>) -> Result<(), String> + Send + Sync;

/// A check applied to a parsed value, as Kafka's validators (which also run on null, so a
/// value that failed to parse may get a second error, as in Kafka).
#[derive(Clone)]
pub enum Validator {
    /// Numbers within `[min, max]` (either bound optional); null is an error.
    Range {
        /// Inclusive lower bound.
        min: Option<f64>,
        /// Inclusive upper bound.
        max: Option<f64>,
    },
    /// One of these strings, exactly (Kafka's `ValidString`; on a list, each item:
    /// `ValidList`).
    OneOf(Vec<&'static str>),
    /// One of these strings, ignoring case (Kafka's `CaseInsensitiveValidString`).
    OneOfIgnoreCase(Vec<&'static str>),
    /// A string or list that is not empty (null passes, as the key's "required" covers it).
    NonEmpty,
    /// Any other check.
    Custom(Arc<CheckFn>),
    /// A check whose messages are complete as they are (Kafka's `new ConfigException(message)`,
    /// which names no key or value).
    CustomMessage(Arc<CheckFn>),
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Range { min, max } => f.debug_struct("Range").field("min", min).field("max", max).finish(),
            Self::OneOf(v) => f.debug_tuple("OneOf").field(v).finish(),
            Self::OneOfIgnoreCase(v) => f.debug_tuple("OneOfIgnoreCase").field(v).finish(),
            Self::NonEmpty => f.write_str("NonEmpty"),
            Self::Custom(_) => f.write_str("Custom"),
            Self::CustomMessage(_) => f.write_str("CustomMessage"),
        }
    }
}

impl Validator {
    /// Numbers of at least `min`.
    pub fn at_least(min: f64) -> Self {
        Self::Range { min: Some(min), max: None }
    }

    /// Numbers within `[min, max]`.
    pub fn between(min: f64, max: f64) -> Self {
        Self::Range { min: Some(min), max: Some(max) }
    }

    /// A check written as code.
    pub fn custom(check: impl Fn(Option<&ConfigValue>) -> Result<(), String> + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(check))
    }

    /// A check written as code whose error messages are shown as they are.
    pub fn custom_message(check: impl Fn(Option<&ConfigValue>) -> Result<(), String> + Send + Sync + 'static) -> Self {
        Self::CustomMessage(Arc::new(check))
    }

    /// Whether this validator's messages are complete (not wrapped in "Invalid value ...").
    pub(super) fn complete_messages(&self) -> bool {
        matches!(self, Self::CustomMessage(_))
    }

    pub(super) fn check(&self, value: Option<&ConfigValue>) -> Result<(), String> {
        match self {
            Self::Range { min, max } => {
                let Some(value) = value else { return Err("Value must be non-null".into()) };
                let Some(n) = value.as_f64() else { return Ok(()) };
                if let Some(min) = min
                    && n < *min
                {
                    return Err(format!("Value must be at least {}", java_number(*min)));
                }
                if let Some(max) = max
                    && n > *max
                {
                    return Err(format!("Value must be no more than {}", java_number(*max)));
                }
                Ok(())
            }
            Self::OneOf(options) => {
                let ok = |s: &str| options.contains(&s);
                let fine = match value {
                    None => false,
                    Some(ConfigValue::String(s)) => ok(s),
                    Some(ConfigValue::List(items)) => items.iter().all(|s| ok(s)),
                    Some(_) => true,
                };
                if fine { Ok(()) } else { Err(format!("String must be one of: {}", options.join(", "))) }
            }
            Self::OneOfIgnoreCase(options) => {
                let fine = match value {
                    Some(ConfigValue::String(s)) => options.iter().any(|o| o.eq_ignore_ascii_case(s)),
                    Some(_) => true,
                    None => false,
                };
                if fine {
                    Ok(())
                } else {
                    let upper: Vec<String> = options.iter().map(|o| o.to_ascii_uppercase()).collect();
                    Err(format!("String must be one of (case insensitive): {}", upper.join(", ")))
                }
            }
            Self::NonEmpty => match value {
                Some(ConfigValue::String(s)) if s.trim().is_empty() => Err("String may not be empty".into()),
                Some(ConfigValue::List(l)) if l.is_empty() => Err("List may not be empty".into()),
                _ => Ok(()),
            },
            Self::Custom(check) | Self::CustomMessage(check) => check(value),
        }
    }
}

/// A bound as Java prints the `Number` it was declared with: integers without a fraction.
fn java_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n}") }
}

/// Which names a CLASS key accepts, each resolved to its canonical class name: Kafka parses a
/// CLASS value by loading the class (so an alias reads back as the class's full name), and an
/// unknown name is a parse error ("Class X could not be found.") with a null value.
#[derive(Clone)]
pub struct ClassCheck(pub Arc<ResolveFn>);

/// Resolves a class name to its canonical form, `None` when unknown.
pub type ResolveFn = dyn Fn(&str) -> Option<String> + Send + Sync;

impl fmt::Debug for ClassCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClassCheck")
    }
}

/// One declared key.
#[derive(Clone, Debug)]
pub struct ConfigKey {
    /// Key name.
    pub name: String,
    /// Type.
    pub kind: ConfigType,
    /// Default as it would be written in a properties file; `None` is either "required" or a
    /// null default, as [`ConfigKey::required`] says.
    pub default: Option<String>,
    /// Whether the key must be given (Kafka's `NO_DEFAULT_VALUE`).
    pub required: bool,
    /// Importance.
    pub importance: Importance,
    /// Documentation, a sentence or more.
    pub doc: String,
    /// Group shown in ConfigInfos and docs (`None`: Kafka's null group).
    pub group: Option<String>,
    /// Position within its group; -1 when not given, as in Kafka.
    pub order: i32,
    /// Input width hint.
    pub width: Width,
    /// Name to show in UIs; the key name when `None`.
    pub display_name: Option<String>,
    /// Keys whose meaning depends on this one.
    pub dependents: Vec<String>,
    /// Values to offer (Kafka's recommender), listed in ConfigInfos.
    pub recommended: Vec<String>,
    /// Validators, all applied.
    pub validators: Vec<Validator>,
    /// The name validator errors report, when not [`ConfigKey::name`]: an embedded key's own
    /// name (`regex`, not `transforms.route.regex`), as Kafka's embedded validators do.
    pub error_name: Option<String>,
    /// For CLASS keys: which names exist (any name when `None`).
    pub classes: Option<ClassCheck>,
    /// Whether a UI should show the key (Kafka's recommender `visible`), given the config it
    /// was checked with.
    pub visible: bool,
}

impl ConfigKey {
    /// A key of `kind` with documentation; required until [`ConfigKey::default`] or
    /// [`ConfigKey::optional`] is called.
    pub fn new(name: &str, kind: ConfigType, importance: Importance, doc: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            default: None,
            required: true,
            importance,
            doc: doc.to_owned(),
            group: None,
            order: -1,
            width: Width::None,
            display_name: None,
            dependents: Vec::new(),
            recommended: Vec::new(),
            validators: Vec::new(),
            error_name: None,
            classes: None,
            visible: true,
        }
    }
    /// Sets the default.
    pub fn default(mut self, default: impl Into<String>) -> Self {
        self.default = Some(default.into());
        self.required = false;
        self
    }
    /// Makes the key optional with a null default (Kafka's `define(name, type, null, ...)`).
    pub fn optional(mut self) -> Self {
        self.default = None;
        self.required = false;
        self
    }
    /// Sets the group.
    pub fn group(mut self, group: &str) -> Self {
        self.group = Some(group.to_owned());
        self
    }
    /// Sets the position within the group.
    pub fn order(mut self, order: i32) -> Self {
        self.order = order;
        self
    }
    /// Sets the width hint.
    pub fn width(mut self, width: Width) -> Self {
        self.width = width;
        self
    }
    /// Sets the display name.
    pub fn display_name(mut self, name: &str) -> Self {
        self.display_name = Some(name.to_owned());
        self
    }
    /// Sets the recommended values.
    pub fn recommend(mut self, values: Vec<String>) -> Self {
        self.recommended = values;
        self
    }
    /// Adds a validator.
    pub fn validator(mut self, v: Validator) -> Self {
        self.validators.push(v);
        self
    }
    /// Accepts only the class names `resolve` knows, read as the canonical names it gives
    /// (CLASS keys).
    pub fn classes(mut self, resolve: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.classes = Some(ClassCheck(Arc::new(resolve)));
        self
    }
    /// Hides the key (a key that depends on another whose value is unusable).
    pub fn hidden(mut self) -> Self {
        self.visible = false;
        self
    }
    /// Whether the key has a default, null included.
    pub fn has_default(&self) -> bool {
        !self.required
    }
}
