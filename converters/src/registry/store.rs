//! [`SchemaRegistry`]: the operations of Confluent's Schema Registry over the state, with writes
//! persisted through the Kafka log (or applied directly when in memory).

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use tokio::sync::{Mutex, MutexGuard};

use super::compat::{self, Parsed};
use super::error::RegistryError;
use super::log::{KafkaLog, KafkaStoreConfig};
use super::model::{CompatibilityLevel, Mode, SchemaById, SchemaReference, SchemaRequest, SubjectSchema, VersionSpec};
use super::records::Record;
use super::state::{State, Version};

/// How deep references may nest.
const MAX_REFERENCE_DEPTH: usize = 32;

/// An embedded Confluent-compatible schema registry. Share it as `Arc<SchemaRegistry>`: reads
/// take a short lock on the state, writes are serialised by an async lock and, with a Kafka
/// store, answered only after Kafka acknowledged them and the registry read them back.
#[derive(Debug)]
pub struct SchemaRegistry {
    state: Arc<RwLock<State>>,
    log: Option<KafkaLog>,
    writes: Mutex<()>,
    default_compatibility: CompatibilityLevel,
}

/// Sizes of the registry's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryStats {
    /// Subjects with at least one version (soft-deleted ones included).
    pub subjects: usize,
    /// Distinct schemas (ids in use).
    pub schemas: usize,
    /// Subject versions (soft-deleted ones included).
    pub versions: usize,
}

impl SchemaRegistry {
    /// A registry whose state lives in this process only.
    pub fn in_memory() -> Self {
        Self {
            state: Arc::default(),
            log: None,
            writes: Mutex::new(()),
            default_compatibility: CompatibilityLevel::default(),
        }
    }

    /// A registry persisted in `topic` (created if missing: 1 partition, compacted, replication
    /// factor 1), read to its end before this returns and followed afterwards, so registries on
    /// the same topic see each other's schemas.
    pub async fn open_kafka(bootstrap_servers: &str, topic: &str) -> Result<Self, RegistryError> {
        Self::open_kafka_with(KafkaStoreConfig::new(bootstrap_servers, topic)).await
    }

    /// [`SchemaRegistry::open_kafka`] with every store setting.
    pub async fn open_kafka_with(config: KafkaStoreConfig) -> Result<Self, RegistryError> {
        let state: Arc<RwLock<State>> = Arc::default();
        let log = KafkaLog::open(&config, state.clone()).await?;
        Ok(Self { state, log: Some(log), writes: Mutex::new(()), default_compatibility: CompatibilityLevel::default() })
    }

    /// Sets the level used when neither the subject nor the registry has one
    /// (`schema.compatibility.level`, BACKWARD unless set).
    pub fn with_default_compatibility(mut self, level: CompatibilityLevel) -> Self {
        self.default_compatibility = level;
        self
    }

    /// What the registry holds.
    pub fn stats(&self) -> RegistryStats {
        let (subjects, schemas, versions) = self.read().counts();
        RegistryStats { subjects, schemas, versions }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the write lock and, with a Kafka store, reads up to what is written so far.
    async fn begin(&self) -> Result<MutexGuard<'_, ()>, RegistryError> {
        let guard = self.writes.lock().await;
        if let Some(log) = &self.log {
            log.sync().await?;
        }
        Ok(guard)
    }

    async fn commit(&self, records: Vec<Record>) -> Result<(), RegistryError> {
        if records.is_empty() {
            return Ok(());
        }
        match &self.log {
            Some(log) => log.write(&records).await,
            None => {
                let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
                records.into_iter().for_each(|r| state.apply(r));
                Ok(())
            }
        }
    }

    fn level_in_scope(&self, st: &State, subject: &str) -> CompatibilityLevel {
        st.config(Some(subject)).or_else(|| st.config(None)).unwrap_or(self.default_compatibility)
    }

    fn mode_in_scope(st: &State, subject: Option<&str>) -> Mode {
        subject.and_then(|s| st.mode(Some(s))).or_else(|| st.mode(None)).unwrap_or_default()
    }

    fn refuse_if_read_only(st: &State, subject: Option<&str>) -> Result<(), RegistryError> {
        if Self::mode_in_scope(st, subject) == Mode::ReadOnly {
            let what = subject.map_or_else(|| "The registry".to_owned(), |s| format!("Subject {s} in context ."));
            return Err(RegistryError::OperationNotPermitted(format!("{what} is in read-only mode")));
        }
        Ok(())
    }

    /// The texts of the schemas `refs` point at, transitively, dependencies first.
    fn ref_texts(st: &State, refs: &[SchemaReference]) -> Result<Vec<String>, RegistryError> {
        fn walk(
            st: &State,
            refs: &[SchemaReference],
            depth: usize,
            out: &mut Vec<String>,
        ) -> Result<(), RegistryError> {
            if depth > MAX_REFERENCE_DEPTH {
                return Err(RegistryError::InvalidSchema(format!(
                    "references nest deeper than {MAX_REFERENCE_DEPTH} levels"
                )));
            }
            for r in refs {
                if r.version < 1 {
                    return Err(RegistryError::InvalidSchema(format!(
                        "Invalid schema: reference '{}' has version {}; references need a version of 1 or more",
                        r.name, r.version
                    )));
                }
                let target = st.version(&r.subject, VersionSpec::Number(r.version), true).map_err(|_| {
                    RegistryError::InvalidSchema(format!(
                        "Invalid schema: reference '{}' points to subject '{}' version {}, which does not exist",
                        r.name, r.subject, r.version
                    ))
                })?;
                walk(st, &target.references, depth + 1, out)?;
                if !out.contains(&target.schema) {
                    out.push(target.schema);
                }
            }
            Ok(())
        }
        let mut out = Vec::new();
        walk(st, refs, 0, &mut out)?;
        Ok(out)
    }

    fn parse_request(st: &State, req: &SchemaRequest) -> Result<Parsed, RegistryError> {
        compat::parse(req.schema_type, &req.schema, Self::ref_texts(st, &req.references)?)
    }

    fn parse_stored(st: &State, subject: &str, version: i32, id: i32) -> Result<Parsed, RegistryError> {
        let s =
            st.by_id(id).ok_or_else(|| RegistryError::Store(format!("schema id {id} is missing from the store")))?;
        compat::parse(s.schema_type, &s.schema, Self::ref_texts(st, &s.references)?).map_err(|e| {
            RegistryError::Store(format!(
                "stored schema of subject '{subject}' version {version} (id {id}) does not parse: {e}"
            ))
        })
    }

    // ---- reads ----

    /// Subjects starting with `prefix` (live ones unless `deleted`), sorted.
    pub fn subjects(&self, prefix: &str, deleted: bool) -> Vec<String> {
        self.read().subjects(prefix, deleted)
    }

    /// A subject's version numbers.
    pub fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, RegistryError> {
        self.read().versions(subject, deleted)
    }

    /// A version of a subject.
    pub fn version(&self, subject: &str, spec: VersionSpec, deleted: bool) -> Result<SubjectSchema, RegistryError> {
        self.read().version(subject, spec, deleted)
    }

    /// Ids of the schemas referencing a version.
    pub fn referenced_by(&self, subject: &str, spec: VersionSpec, deleted: bool) -> Result<Vec<i32>, RegistryError> {
        let st = self.read();
        let v = st.version(subject, spec, true)?;
        Ok(st.referenced_by(subject, v.version, deleted))
    }

    /// A schema by its global id (soft-deleted versions keep their schema readable).
    pub fn schema_by_id(&self, id: i64) -> Result<SchemaById, RegistryError> {
        i32::try_from(id).ok().and_then(|i| self.read().by_id(i)).ok_or(RegistryError::SchemaIdNotFound(id))
    }

    /// The (subject, version) pairs registered with an id.
    pub fn id_versions(&self, id: i64, deleted: bool) -> Result<Vec<(String, i32)>, RegistryError> {
        let st = self.read();
        let found =
            i32::try_from(id).ok().filter(|i| st.by_id(*i).is_some()).ok_or(RegistryError::SchemaIdNotFound(id))?;
        Ok(st.uses_of(found, deleted))
    }

    /// The subjects an id is registered under.
    pub fn id_subjects(&self, id: i64, deleted: bool) -> Result<Vec<String>, RegistryError> {
        let mut subjects: Vec<String> = self.id_versions(id, deleted)?.into_iter().map(|(s, _)| s).collect();
        subjects.dedup();
        Ok(subjects)
    }

    /// The compatibility level of a subject (or the registry's when `None`).
    pub fn config(&self, subject: Option<&str>, default_to_global: bool) -> Result<CompatibilityLevel, RegistryError> {
        let st = self.read();
        let global = st.config(None).unwrap_or(self.default_compatibility);
        match subject {
            None => Ok(global),
            Some(s) => match st.config(Some(s)) {
                Some(l) => Ok(l),
                None if default_to_global => Ok(global),
                None => Err(RegistryError::SubjectCompatibilityNotConfigured(s.to_owned())),
            },
        }
    }

    /// The mode of a subject (or the registry's when `None`).
    pub fn mode(&self, subject: Option<&str>, default_to_global: bool) -> Result<Mode, RegistryError> {
        let st = self.read();
        match subject {
            None => Ok(st.mode(None).unwrap_or_default()),
            Some(s) => match st.mode(Some(s)) {
                Some(m) => Ok(m),
                None if default_to_global => Ok(st.mode(None).unwrap_or_default()),
                None => Err(RegistryError::SubjectModeNotConfigured(s.to_owned())),
            },
        }
    }

    /// Finds `req` among the subject's versions (`POST /subjects/{s}`).
    pub fn lookup(&self, subject: &str, req: &SchemaRequest, deleted: bool) -> Result<SubjectSchema, RegistryError> {
        let st = self.read();
        let parsed = Self::parse_request(&st, req)?;
        let id = st.id_of(&(req.schema_type, parsed.canonical, req.references.clone()));
        let found =
            id.and_then(|id| st.all_versions(subject).filter(|(_, v)| v.id == id && (deleted || !v.deleted)).last());
        match found {
            Some((n, _)) => st.version(subject, VersionSpec::Number(n), true),
            None if st.has_subject(subject, deleted) => Err(RegistryError::SchemaNotFound),
            None => Err(RegistryError::SubjectNotFound(subject.to_owned())),
        }
    }

    /// The incompatibilities of `req` with one version (`Some`) or with the versions the
    /// subject's level checks (`None`); empty when compatible.
    pub fn check_compatibility(
        &self,
        subject: &str,
        version: Option<VersionSpec>,
        req: &SchemaRequest,
    ) -> Result<Vec<String>, RegistryError> {
        let st = self.read();
        let against: Vec<(i32, Version)> = match version {
            Some(spec) => match st.version(subject, spec, false) {
                Ok(v) => vec![(v.version, Version { id: v.id, deleted: false })],
                Err(_) if spec == VersionSpec::Latest => Vec::new(),
                Err(_) => {
                    let VersionSpec::Number(n) = spec else { return Ok(Vec::new()) };
                    return Err(RegistryError::VersionNotFound(i64::from(n)));
                }
            },
            None => st.all_versions(subject).filter(|(_, v)| !v.deleted).collect(),
        };
        let parsed = Self::parse_request(&st, req)?;
        let level = self.level_in_scope(&st, subject);
        let previous = Self::parse_previous(&st, subject, &against, level)?;
        Ok(compat::check(level, &parsed, &previous))
    }

    /// Parses the live versions a check at `level` needs (all when transitive, else the latest).
    fn parse_previous(
        st: &State,
        subject: &str,
        live: &[(i32, Version)],
        level: CompatibilityLevel,
    ) -> Result<Vec<(i32, Parsed)>, RegistryError> {
        if level == CompatibilityLevel::None {
            return Ok(Vec::new());
        }
        let needed = if level.transitive() { live } else { &live[live.len().saturating_sub(1)..] };
        needed.iter().map(|(n, v)| Ok((*n, Self::parse_stored(st, subject, *n, v.id)?))).collect()
    }
}

mod writes;
