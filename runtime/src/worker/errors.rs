//! What a task does with a record that cannot be transformed or converted: Kafka Connect's
//! `errors.tolerance` (`none`: the task fails; `all`: the record is skipped), with
//! `errors.log.enable` / `errors.log.include.messages` deciding what the log says (without
//! `errors.log.enable`: the first skip, then a summary every 30 s, each with the latest error).
//!
//! Only data errors are tolerated, in the transform and converter stages, as in Kafka Connect,
//! and for records a source task hands back as failed (`SourceRecord::failed`, stage
//! `TASK_POLL`: a payload the task cannot parse); a failing `poll`/`put`, an unreachable
//! broker or a bad configuration still fails the task.
//! A skipped source record's offset is committed like a delivered one (its position is
//! consumed), and a skipped sink record's offset is committed with the batch around it, so a
//! skipped record is not read again after a restart.
//!
//! Not supported yet, and refused at validation rather than ignored: dead letter queues
//! (`errors.deadletterqueue.*`). `errors.retry.timeout` is accepted, but transforms and
//! converters are not retried (a warning says so at task start).

use std::time::{Duration, Instant};

use crate::api::{ConnectError, ConnectResult, ErrorKind, Props};

/// Where in the pipeline a record failed, named as Kafka Connect's `Stage`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// A transform.
    Transformation,
    /// The key converter.
    KeyConverter,
    /// The value converter.
    ValueConverter,
    /// The header converter.
    HeaderConverter,
    /// The source task's `poll`: a record the task could not make of what it read
    /// ([`crate::api::SourceRecord::failed`]).
    TaskPoll,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Self::Transformation => "TRANSFORMATION",
            Self::KeyConverter => "KEY_CONVERTER",
            Self::ValueConverter => "VALUE_CONVERTER",
            Self::HeaderConverter => "HEADER_CONVERTER",
            Self::TaskPoll => "TASK_POLL",
        }
    }
}

/// How often a summary of skipped records is logged when `errors.log.enable` is off.
const SUMMARY_EVERY: Duration = Duration::from_secs(30);

/// A task's error policy.
#[derive(Debug)]
pub(crate) struct ErrorPolicy {
    tolerate_all: bool,
    log: bool,
    include_messages: bool,
    skipped: u64,
    reported: u64,
    last_summary: Instant,
}

impl ErrorPolicy {
    /// The policy a (validated) connector configuration sets.
    pub(crate) fn from_config(props: &Props) -> Self {
        let flag = |k: &str| props.get(k).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let tolerate_all = props.get("errors.tolerance").is_some_and(|v| v.trim() == "all");
        if props.get("errors.retry.timeout").is_some_and(|v| !matches!(v.trim(), "" | "0")) {
            tracing::warn!("errors.retry.timeout is set, but Tributary does not retry transforms and converters yet");
        }
        Self {
            tolerate_all,
            log: flag("errors.log.enable"),
            include_messages: flag("errors.log.include.messages"),
            skipped: 0,
            reported: 0,
            last_summary: Instant::now(),
        }
    }

    /// A record failed at `stage` with `error`: `Ok(())` when it is tolerated (the caller skips
    /// the record), the error when the task must fail. `describe` renders the record for the
    /// log, only when `errors.log.include.messages` asks for it.
    pub(crate) fn failed(
        &mut self,
        stage: Stage,
        error: ConnectError,
        describe: impl FnOnce() -> String,
    ) -> ConnectResult<()> {
        if !self.tolerate_all || error.kind() != ErrorKind::Data {
            return Err(error);
        }
        self.skipped += 1;
        if self.log {
            let record = if self.include_messages { describe() } else { String::from("(not logged)") };
            tracing::error!(
                stage = stage.name(),
                "error encountered executing stage '{}'; the record is skipped (errors.tolerance=all): {}; record: {record}",
                stage.name(),
                error.chain()
            );
        } else if self.skipped == 1 || self.last_summary.elapsed() >= SUMMARY_EVERY {
            // The first skip at once, then a summary at most every SUMMARY_EVERY, each with
            // the latest error, so an operator learns why without a line per record.
            tracing::warn!(
                skipped = self.skipped - self.reported,
                stage = stage.name(),
                "records skipped by errors.tolerance=all since the last report; set errors.log.enable=true to log each; latest error: {}",
                error.chain()
            );
            self.reported = self.skipped;
            self.last_summary = Instant::now();
        }
        Ok(())
    }

    /// Records skipped so far.
    #[cfg(test)]
    pub(crate) fn skipped(&self) -> u64 {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(pairs: &[(&str, &str)]) -> ErrorPolicy {
        ErrorPolicy::from_config(&pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn none_fails_the_task_on_the_first_bad_record() {
        let mut p = policy(&[]);
        assert!(p.failed(Stage::ValueConverter, ConnectError::data("bad"), String::new).is_err());
    }

    #[test]
    fn all_skips_data_errors_but_not_other_failures() {
        let mut p = policy(&[("errors.tolerance", "all"), ("errors.log.enable", "true")]);
        assert!(p.failed(Stage::Transformation, ConnectError::data("bad"), || "r".into()).is_ok());
        assert!(p.failed(Stage::KeyConverter, ConnectError::fatal("broker gone"), String::new).is_err());
        assert!(p.failed(Stage::KeyConverter, ConnectError::retriable("registry down"), String::new).is_err());
        assert_eq!(p.skipped(), 1);
    }
}
