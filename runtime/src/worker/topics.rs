//! Topics a connector actually used (KIP-558): every topic a source task wrote to or a sink
//! task read from since the connector was created or its topics were last reset.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The set of one connector's active topics, shared by its tasks.
#[derive(Debug, Default)]
pub(crate) struct ActiveTopics {
    set: Mutex<BTreeSet<String>>,
    /// Bumped by every reset, so tasks note their topic again.
    resets: AtomicU64,
}

impl ActiveTopics {
    fn set(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        // Inserts are whole; a poisoned set is still a valid set.
        self.set.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    /// The topics, sorted.
    pub(crate) fn list(&self) -> Vec<String> {
        self.set().iter().cloned().collect()
    }
    /// Forgets every topic.
    pub(crate) fn reset(&self) {
        let mut set = self.set();
        set.clear();
        self.resets.fetch_add(1, Ordering::Relaxed);
    }
    fn insert(&self, topic: &str) {
        if !self.set().contains(topic) {
            self.set().insert(topic.to_owned());
        }
    }
}

/// A task's cheap front to [`ActiveTopics`]: remembers the last topic it noted, so the shared
/// set is only touched when the topic changes.
#[derive(Debug)]
pub(crate) struct TopicNotes {
    shared: Arc<ActiveTopics>,
    last: String,
    resets: u64,
}

impl TopicNotes {
    pub(crate) fn new(shared: Arc<ActiveTopics>) -> Self {
        Self { shared, last: String::new(), resets: 0 }
    }
    /// Notes that the task used `topic`.
    #[inline]
    pub(crate) fn note(&mut self, topic: &str) {
        let resets = self.shared.resets.load(Ordering::Relaxed);
        if self.last != topic || self.resets != resets {
            self.shared.insert(topic);
            topic.clone_into(&mut self.last);
            self.resets = resets;
        }
    }
}
