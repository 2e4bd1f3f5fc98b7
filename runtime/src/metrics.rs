//! Task metrics, served by the REST API as `GET /metrics` in Prometheus's text format.
//!
//! Each running task has a [`TaskMetrics`]: counters and a gauge the worker keeps (named after
//! Kafka Connect's task metrics: `source-record-poll-total`, `source-record-write-total`,
//! `source-record-active-count`, `sink-record-read-total`, `sink-record-send-total`), and
//! gauges a connector adds for what only it knows (an MQTT source's unacknowledged messages).
//! Rates come from the counters (`rate(tributary_source_record_write_total[1m])`). Updates are
//! relaxed atomic operations on the task's own loop; nothing is allocated per record.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The metrics of one task.
#[derive(Debug, Default)]
pub struct TaskMetrics {
    /// Records the source task's `poll` returned.
    pub(crate) polled: AtomicU64,
    /// Source records Kafka acknowledged (or that were skipped: filtered or tolerated).
    pub(crate) written: AtomicU64,
    /// Source records sent and not yet acknowledged.
    pub(crate) active: AtomicI64,
    /// Records the sink task's consumer read.
    pub(crate) read: AtomicU64,
    /// Records handed to the sink task's `put`.
    pub(crate) sent: AtomicU64,
    /// Gauges the connector defined, by name.
    gauges: Mutex<BTreeMap<&'static str, Arc<AtomicI64>>>,
}

impl TaskMetrics {
    fn gauges(&self) -> MutexGuard<'_, BTreeMap<&'static str, Arc<AtomicI64>>> {
        self.gauges.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A gauge of this task named `name` (lower case, words joined by `-` or `_`, e.g.
    /// `mqtt-unacked-messages`), created at 0 on first use; keep the handle and `store` or
    /// `fetch_add` on it. Served as `tributary_task_<name>{connector,task}`.
    pub fn gauge(&self, name: &'static str) -> Arc<AtomicI64> {
        self.gauges().entry(name).or_default().clone()
    }
}

/// Which loop a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// A source task.
    Source,
    /// A sink task.
    Sink,
}

/// Each running task's kind and metrics, by (connector, task).
type TaskTable = BTreeMap<(String, usize), (TaskKind, Arc<TaskMetrics>)>;

/// The metrics of every task running on this worker.
#[derive(Debug, Default)]
pub struct Metrics {
    tasks: Mutex<TaskTable>,
}

/// A metric the worker keeps: name, help, Prometheus type, the tasks it applies to, and its
/// value.
struct Builtin {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    of: TaskKind,
    value: fn(&TaskMetrics) -> i64,
}

fn count(v: &AtomicU64) -> i64 {
    i64::try_from(v.load(Ordering::Relaxed)).unwrap_or(i64::MAX)
}

const BUILTINS: [Builtin; 5] = [
    Builtin {
        name: "tributary_source_record_poll_total",
        help: "Records returned by the source task's poll (Kafka Connect's source-record-poll-total).",
        kind: "counter",
        of: TaskKind::Source,
        value: |m| count(&m.polled),
    },
    Builtin {
        name: "tributary_source_record_write_total",
        help: "Source records Kafka acknowledged, or skipped by a transform or errors.tolerance \
               (source-record-write-total).",
        kind: "counter",
        of: TaskKind::Source,
        value: |m| count(&m.written),
    },
    Builtin {
        name: "tributary_source_record_active_count",
        help: "Source records sent to Kafka and not yet acknowledged (source-record-active-count).",
        kind: "gauge",
        of: TaskKind::Source,
        value: |m| m.active.load(Ordering::Relaxed),
    },
    Builtin {
        name: "tributary_sink_record_read_total",
        help: "Records the sink task's consumer read from Kafka (sink-record-read-total).",
        kind: "counter",
        of: TaskKind::Sink,
        value: |m| count(&m.read),
    },
    Builtin {
        name: "tributary_sink_record_send_total",
        help: "Records handed to the sink task's put, after transforms (sink-record-send-total).",
        kind: "counter",
        of: TaskKind::Sink,
        value: |m| count(&m.sent),
    },
];

/// A label value as Prometheus's text format writes it.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    fn tasks(&self) -> MutexGuard<'_, TaskTable> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fresh metrics for a task that starts (replacing those of a previous instance).
    pub fn register(&self, connector: &str, task: usize, kind: TaskKind) -> Arc<TaskMetrics> {
        let metrics = Arc::new(TaskMetrics::default());
        self.tasks().insert((connector.to_owned(), task), (kind, metrics.clone()));
        metrics
    }

    /// Forgets a task's metrics once it stopped, unless a newer instance registered since.
    pub fn unregister(&self, connector: &str, task: usize, metrics: &Arc<TaskMetrics>) {
        let mut tasks = self.tasks();
        let key = (connector.to_owned(), task);
        if tasks.get(&key).is_some_and(|(_, m)| Arc::ptr_eq(m, metrics)) {
            tasks.remove(&key);
        }
    }

    /// Every metric in Prometheus's text format (version 0.0.4).
    pub fn render(&self) -> String {
        let tasks = self.tasks();
        let mut out = String::new();
        for b in &BUILTINS {
            let _ = writeln!(out, "# HELP {} {}\n# TYPE {} {}", b.name, b.help, b.name, b.kind);
            for ((connector, task), (kind, m)) in tasks.iter() {
                if *kind == b.of {
                    let _ = writeln!(
                        out,
                        "{}{{connector=\"{}\",task=\"{task}\"}} {}",
                        b.name,
                        label(connector),
                        (b.value)(m)
                    );
                }
            }
        }
        let mut custom: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for ((connector, task), (_, m)) in tasks.iter() {
            for (name, gauge) in m.gauges().iter() {
                let name = format!("tributary_task_{}", name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
                let line = format!(
                    "{name}{{connector=\"{}\",task=\"{task}\"}} {}",
                    label(connector),
                    gauge.load(Ordering::Relaxed)
                );
                custom.entry(name).or_default().push(line);
            }
        }
        for (name, lines) in custom {
            let _ = writeln!(out, "# HELP {name} Defined by the task's connector.\n# TYPE {name} gauge");
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_task_under_its_metrics_with_escaped_labels() {
        let metrics = Metrics::default();
        let source = metrics.register("a \"quoted\" name", 0, TaskKind::Source);
        source.polled.fetch_add(5, Ordering::Relaxed);
        source.written.fetch_add(4, Ordering::Relaxed);
        source.active.fetch_add(1, Ordering::Relaxed);
        source.gauge("mqtt-unacked-messages").store(3, Ordering::Relaxed);
        let sink = metrics.register("s", 2, TaskKind::Sink);
        sink.read.fetch_add(7, Ordering::Relaxed);
        let text = metrics.render();
        assert!(text.contains("# TYPE tributary_source_record_poll_total counter\n"), "{text}");
        assert!(
            text.contains("tributary_source_record_poll_total{connector=\"a \\\"quoted\\\" name\",task=\"0\"} 5\n"),
            "{text}"
        );
        assert!(
            text.contains("tributary_source_record_write_total{connector=\"a \\\"quoted\\\" name\",task=\"0\"} 4\n")
        );
        assert!(
            text.contains("tributary_source_record_active_count{connector=\"a \\\"quoted\\\" name\",task=\"0\"} 1\n")
        );
        assert!(text.contains("tributary_sink_record_read_total{connector=\"s\",task=\"2\"} 7\n"), "{text}");
        assert!(!text.contains("tributary_sink_record_read_total{connector=\"a"), "{text}");
        assert!(text.contains("# TYPE tributary_task_mqtt_unacked_messages gauge\n"), "{text}");
        assert!(
            text.contains("tributary_task_mqtt_unacked_messages{connector=\"a \\\"quoted\\\" name\",task=\"0\"} 3\n")
        );
    }

    #[test]
    fn a_stopped_task_is_forgotten_unless_a_newer_instance_runs() {
        let metrics = Metrics::default();
        let old = metrics.register("c", 0, TaskKind::Source);
        let new = metrics.register("c", 0, TaskKind::Source);
        metrics.unregister("c", 0, &old);
        assert!(metrics.render().contains("{connector=\"c\",task=\"0\"} 0"));
        metrics.unregister("c", 0, &new);
        assert!(!metrics.render().contains("connector=\"c\""));
    }
}
