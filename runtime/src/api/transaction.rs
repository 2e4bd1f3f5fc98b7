//! Connector-defined transaction boundaries (`transaction.boundary=connector`, KIP-618): what
//! a source task uses to say where its transactions end (Kafka Connect's
//! `TransactionContext`).

use std::sync::{Mutex, MutexGuard, PoisonError};

use super::error::{ConnectError, ConnectResult};
use super::record::SourceRecord;

/// Requests a source task made of its transaction and the worker has not acted on yet.
#[derive(Debug, Default)]
struct Requests {
    commit_batch: bool,
    abort_batch: bool,
    commit_on: Vec<SourceRecord>,
    abort_on: Vec<SourceRecord>,
}

/// What the worker does after a record or a batch, as the task asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// Commit the open transaction.
    Commit,
    /// Abort it: its records are discarded; their offsets are still committed (in a
    /// transaction of their own) so the task does not see them again, as in Kafka Connect.
    Abort,
}

/// Handed to a source task (in its [`super::SourceTaskContext`]) when its connector runs with
/// `transaction.boundary=connector` on a worker with exactly-once support. The task asks for a
/// commit or an abort, either once the batch its current `poll` returns has been sent, or
/// right after a given record (returned by a `poll`, now or later) has been sent, that record
/// being the last of the transaction. The worker acts on a request once; asking for both a
/// commit and an abort of the same batch or record fails the task.
///
/// Requests are cheap and may be made from any thread. A task that never asks never commits:
/// its records stay invisible to read_committed consumers, and the transaction is aborted when
/// the task stops or when it holds more records than the worker keeps for one transaction.
#[derive(Debug, Default)]
pub struct TransactionContext {
    requests: Mutex<Requests>,
}

impl TransactionContext {
    fn lock(&self) -> MutexGuard<'_, Requests> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Commits the transaction once the batch of the current (or next) `poll` has been sent.
    pub fn commit_transaction(&self) {
        self.lock().commit_batch = true;
    }

    /// Commits the transaction right after `record` has been sent; `record` is its last one.
    pub fn commit_transaction_on(&self, record: &SourceRecord) {
        self.lock().commit_on.push(record.clone());
    }

    /// Aborts the transaction once the batch of the current (or next) `poll` has been sent.
    pub fn abort_transaction(&self) {
        self.lock().abort_batch = true;
    }

    /// Aborts the transaction right after `record` has been sent; `record` is its last one.
    pub fn abort_transaction_on(&self, record: &SourceRecord) {
        self.lock().abort_on.push(record.clone());
    }

    /// Whether any request waits for a record: the worker only compares records then.
    pub fn has_record_requests(&self) -> bool {
        let r = self.lock();
        !r.commit_on.is_empty() || !r.abort_on.is_empty()
    }

    /// Takes the request made for `record` (as the task returned it, before transforms).
    pub fn take_for_record(&self, record: &SourceRecord) -> ConnectResult<Option<Boundary>> {
        let mut r = self.lock();
        let commit = r.commit_on.iter().position(|x| x == record);
        let abort = r.abort_on.iter().position(|x| x == record);
        match (commit, abort) {
            (Some(_), Some(_)) => Err(ConnectError::fatal(format!(
                "the task requested both a commit and an abort of the transaction ending with a record for topic \
                 {} (partition {:?})",
                record.topic, record.kafka_partition
            ))),
            (Some(i), None) => {
                r.commit_on.swap_remove(i);
                Ok(Some(Boundary::Commit))
            }
            (None, Some(i)) => {
                r.abort_on.swap_remove(i);
                Ok(Some(Boundary::Abort))
            }
            (None, None) => Ok(None),
        }
    }

    /// Takes the request made for the batch just sent.
    pub fn take_for_batch(&self) -> ConnectResult<Option<Boundary>> {
        let mut r = self.lock();
        match (r.commit_batch, r.abort_batch) {
            (true, true) => {
                Err(ConnectError::fatal("the task requested both a commit and an abort of the same transaction"))
            }
            (commit, abort) => {
                r.commit_batch = false;
                r.abort_batch = false;
                Ok(if commit {
                    Some(Boundary::Commit)
                } else if abort {
                    Some(Boundary::Abort)
                } else {
                    None
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{OffsetMap, Value};

    fn record(n: i64) -> SourceRecord {
        SourceRecord::new(OffsetMap::new(), OffsetMap::new(), "t", None, Value::Int64(n))
    }

    #[test]
    fn record_requests_are_taken_once_for_the_matching_record() {
        let ctx = TransactionContext::default();
        assert!(!ctx.has_record_requests());
        ctx.commit_transaction_on(&record(3));
        ctx.abort_transaction_on(&record(5));
        assert!(ctx.has_record_requests());
        assert_eq!(ctx.take_for_record(&record(1)).unwrap(), None);
        assert_eq!(ctx.take_for_record(&record(3)).unwrap(), Some(Boundary::Commit));
        assert_eq!(ctx.take_for_record(&record(3)).unwrap(), None);
        assert_eq!(ctx.take_for_record(&record(5)).unwrap(), Some(Boundary::Abort));
        assert!(!ctx.has_record_requests());
    }

    #[test]
    fn batch_requests_are_taken_once() {
        let ctx = TransactionContext::default();
        assert_eq!(ctx.take_for_batch().unwrap(), None);
        ctx.abort_transaction();
        assert_eq!(ctx.take_for_batch().unwrap(), Some(Boundary::Abort));
        assert_eq!(ctx.take_for_batch().unwrap(), None);
        ctx.commit_transaction();
        assert_eq!(ctx.take_for_batch().unwrap(), Some(Boundary::Commit));
    }

    #[test]
    fn commit_and_abort_of_the_same_transaction_fail_the_task() {
        let ctx = TransactionContext::default();
        ctx.commit_transaction();
        ctx.abort_transaction();
        assert!(ctx.take_for_batch().unwrap_err().to_string().contains("both a commit and an abort"));
        ctx.commit_transaction_on(&record(1));
        ctx.abort_transaction_on(&record(1));
        assert!(ctx.take_for_record(&record(1)).unwrap_err().to_string().contains("both a commit and an abort"));
    }
}
