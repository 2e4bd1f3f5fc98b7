//! Runs the request sequence of `tests/rest/sequence.json` against one worker: substitutes the
//! template variables, sends each step, polls `wait_for` conditions, and keeps every answer.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::http;
use super::normalise::StepRules;

/// The sequence file.
#[derive(Debug)]
pub(crate) struct Sequence {
    /// Files written into `{{dir}}` before the first step (name → content).
    pub(crate) files: Vec<(String, String)>,
    pub(crate) steps: Vec<Step>,
}

/// A condition polled until it holds: the pointer has a value (equal to `equals` if given).
#[derive(Debug, Clone)]
pub(crate) struct Cond {
    pub(crate) pointer: String,
    pub(crate) equals: Option<Value>,
}

/// What a target's answer is compared on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compare {
    /// `status+body`: status code and the whole normalised body.
    StatusBody,
    /// `status`: status code only.
    Status,
    /// `status+error_code`: status code, and both bodies are `{"error_code": <status>,
    /// "message": <non-empty string>}` (for messages quoting a Java library's text).
    StatusErrorCode,
}

impl Compare {
    fn parse(v: Option<&Value>) -> Compare {
        match v.and_then(Value::as_str) {
            Some("status+body") => Compare::StatusBody,
            Some("status") => Compare::Status,
            Some("status+error_code") => Compare::StatusErrorCode,
            other => panic!("compare must be status+body, status or status+error_code, not {other:?}"),
        }
    }
}

/// Where Tributary is expected to answer differently from Kafka Connect on purpose.
#[derive(Debug, Clone)]
pub(crate) struct TributaryExpect {
    pub(crate) expect_status: u16,
    pub(crate) compare: Compare,
}

/// One request.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) name: String,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) body: Option<Value>,
    /// Sent as is (for malformed JSON).
    pub(crate) raw_body: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) wait_for: Vec<Cond>,
    pub(crate) compare: Compare,
    /// Kafka Connect's status code, as recorded from Kafka Connect 4.1.1.
    pub(crate) expect_status: u16,
    pub(crate) rules: StepRules,
    pub(crate) tributary: Option<TributaryExpect>,
}

const STEP_KEYS: &[&str] = &[
    "name",
    "method",
    "path",
    "body",
    "raw_body",
    "content_type",
    "wait_for",
    "compare",
    "expect_status",
    "mask",
    "ignore",
    "sort",
    "keep_items",
    "keep_keys",
    "drop_values",
    "why",
    "tributary",
];

fn status(v: Option<&Value>, what: &str) -> u16 {
    v.and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or_else(|| panic!("{what}: expect_status must be a status code"))
}

impl Step {
    fn parse(v: &Value) -> Step {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let name = text("name").expect("every step has a name");
        let obj = v.as_object().expect("a step is an object");
        if let Some(k) = obj.keys().find(|k| !STEP_KEYS.contains(&k.as_str())) {
            panic!("step {name}: unknown field {k} (known: {STEP_KEYS:?})");
        }
        let rules = StepRules::from_step(v);
        if !(rules.ignore.is_empty()
            && rules.mask.is_empty()
            && rules.keep_items.is_none()
            && rules.keep_keys.is_none()
            && rules.drop_values.is_none())
        {
            assert!(text("why").is_some(), "step {name}: a step that masks, ignores or filters says why");
        }
        let tributary = v.get("tributary").map(|t| {
            assert!(t.get("why").and_then(Value::as_str).is_some(), "step {name}: a tributary expectation says why");
            TributaryExpect {
                expect_status: status(t.get("expect_status"), &name),
                compare: Compare::parse(t.get("compare")),
            }
        });
        Step {
            method: text("method").expect("every step has a method"),
            path: text("path").expect("every step has a path"),
            body: v.get("body").cloned(),
            raw_body: text("raw_body"),
            content_type: text("content_type"),
            wait_for: v
                .get("wait_for")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| Cond {
                    pointer: c.get("pointer").and_then(Value::as_str).expect("wait_for needs a pointer").to_string(),
                    equals: c.get("equals").cloned(),
                })
                .collect(),
            compare: Compare::parse(v.get("compare")),
            expect_status: status(v.get("expect_status"), &name),
            rules,
            tributary,
            name,
        }
    }
}

/// The sequence as written, from the repository.
pub(crate) fn load() -> Sequence {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rest/sequence.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let files = v["files"]
        .as_object()
        .expect("files is an object")
        .iter()
        .map(|(k, c)| (k.clone(), c.as_str().expect("file contents are strings").to_string()))
        .collect();
    let steps: Vec<Step> = v["steps"].as_array().expect("steps is an array").iter().map(Step::parse).collect();
    let mut names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), steps.len(), "step names must be unique");
    Sequence { files, steps }
}

/// One worker under test.
#[derive(Debug)]
pub(crate) struct Target {
    /// host:port of its REST API.
    pub(crate) addr: String,
    /// Unique per run and target: connector, topic and logger names are made from it.
    pub(crate) id: String,
    pub(crate) dir: PathBuf,
}

impl Target {
    /// Substitutes `{{id}}`, `{{topic}}`, `{{dir}}` and `{{pad:N}}` (N times `x`).
    pub(crate) fn subst(&self, s: &str) -> String {
        let mut out = s
            .replace("{{topic}}", "{{id}}-lines")
            .replace("{{id}}", &self.id)
            .replace("{{dir}}", self.dir.to_str().unwrap());
        while let Some(start) = out.find("{{pad:") {
            let end = start + out[start..].find("}}").expect("unterminated {{pad:N}}");
            let n: usize = out[start + 6..end].parse().expect("{{pad:N}} needs a number");
            out.replace_range(start..end + 2, &"x".repeat(n));
        }
        out
    }

    fn subst_value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.subst(s)),
            Value::Array(a) => Value::Array(a.iter().map(|e| self.subst_value(e)).collect()),
            Value::Object(m) => Value::Object(m.iter().map(|(k, e)| (self.subst(k), self.subst_value(e))).collect()),
            other => other.clone(),
        }
    }

    /// Pairs that turn run values back into variables (normalisation rule 1).
    pub(crate) fn back(&self) -> Vec<(String, String)> {
        vec![(self.dir.to_str().unwrap().to_string(), "{{dir}}".into()), (self.id.clone(), "{{id}}".into())]
    }

    /// Writes the sequence's files into the target's dir.
    pub(crate) fn write_files(&self, seq: &Sequence) {
        std::fs::create_dir_all(&self.dir).unwrap();
        for (name, content) in &seq.files {
            std::fs::write(self.dir.join(name), content).unwrap();
        }
    }

    /// Sends a raw request.
    pub(crate) fn request(&self, method: &str, path: &str, body: Option<&[u8]>, ct: &str) -> Outcome {
        match http::send(&self.addr, method, path, body, ct) {
            Ok(r) => Outcome {
                status: r.status,
                body: if r.body.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&r.body)
                        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&r.body).into_owned()))
                },
                note: None,
            },
            Err(e) => Outcome { status: 0, body: Value::Null, note: Some(format!("request failed: {e}")) },
        }
    }

    /// Runs one step, polling its `wait_for` conditions for up to `wait`.
    pub(crate) fn run(&self, step: &Step, wait: Duration) -> Outcome {
        let path = self.subst(&step.path);
        let body = match (&step.body, &step.raw_body) {
            (Some(v), _) => Some(serde_json::to_vec(&self.subst_value(v)).unwrap()),
            (None, Some(raw)) => Some(self.subst(raw).into_bytes()),
            (None, None) => None,
        };
        let ct = step.content_type.as_deref().unwrap_or("application/json");
        let conds: Vec<Cond> = step
            .wait_for
            .iter()
            .map(|c| Cond { pointer: self.subst(&c.pointer), equals: c.equals.as_ref().map(|v| self.subst_value(v)) })
            .collect();
        let deadline = Instant::now() + wait;
        loop {
            let mut out = self.request(&step.method, &path, body.as_deref(), ct);
            let unmet: Vec<String> = conds
                .iter()
                .filter(|c| match (out.body.pointer(&c.pointer), &c.equals) {
                    (None, _) => true,
                    (Some(v), Some(want)) => v != want,
                    (Some(_), None) => false,
                })
                .map(|c| format!("{} == {}", c.pointer, c.equals.as_ref().map_or("<any>".into(), Value::to_string)))
                .collect();
            if unmet.is_empty() {
                return out;
            }
            if Instant::now() > deadline {
                out.note = Some(format!("wait_for not met within {wait:?}: {}", unmet.join(", ")));
                return out;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// A target's answer to a step.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) status: u16,
    pub(crate) body: Value,
    /// Set when the request failed or a `wait_for` condition never held.
    pub(crate) note: Option<String>,
}

/// Why `got` does not meet `want` under `compare` (bodies already normalised), if it does not.
pub(crate) fn differs(
    compare: Compare,
    want_status: u16,
    want: &Value,
    got_status: u16,
    got: &Value,
) -> Option<String> {
    if got_status != want_status {
        return Some(format!("status {got_status}, expected {want_status}"));
    }
    match compare {
        Compare::Status => None,
        Compare::StatusBody => (want != got).then(|| {
            let mut paths = Vec::new();
            diff_paths("", want, got, &mut paths);
            let more = paths.len().saturating_sub(8);
            paths.truncate(8);
            format!(
                "bodies differ at {}{}",
                paths.join(", "),
                if more > 0 { format!(" (+{more} more)") } else { String::new() }
            )
        }),
        Compare::StatusErrorCode => {
            let ok = got.get("error_code").and_then(Value::as_u64) == Some(u64::from(got_status))
                && got.get("message").and_then(Value::as_str).is_some_and(|m| !m.is_empty());
            (!ok).then(|| "body is not {\"error_code\": <status>, \"message\": \"...\"}".to_string())
        }
    }
}

/// JSON pointers where two values differ (`+` only in got, `-` only in want, `~` different).
fn diff_paths(at: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => diff_paths(&format!("{at}/{k}"), v, w, out),
                    None => out.push(format!("-{at}/{k}")),
                }
            }
            out.extend(b.keys().filter(|k| !a.contains_key(*k)).map(|k| format!("+{at}/{k}")));
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                diff_paths(&format!("{at}/{i}"), v, w, out);
            }
        }
        (a, b) if a != b => out.push(format!("~{}", if at.is_empty() { "/" } else { at })),
        _ => {}
    }
}
