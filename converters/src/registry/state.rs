//! The registry's state: what the records of the store add up to. [`State::apply`] is the only
//! way it changes, so a registry rebuilt from the topic is the registry that wrote it.

use std::collections::{BTreeMap, HashMap};

use super::error::RegistryError;
use super::model::{CompatibilityLevel, Mode, SchemaById, SchemaReference, SchemaType, SubjectSchema, VersionSpec};
use super::records::{Record, SchemaValue};

/// What identifies a schema: equal keys get the same id.
pub(crate) type ContentKey = (SchemaType, String, Vec<SchemaReference>);

#[derive(Debug, Clone)]
struct Stored {
    schema_type: SchemaType,
    schema: String,
    references: Vec<SchemaReference>,
    /// How many subject versions use this id.
    uses: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version {
    pub(crate) id: i32,
    pub(crate) deleted: bool,
}

/// Subjects, versions, ids, configs and modes.
#[derive(Debug, Default)]
pub(crate) struct State {
    schemas: HashMap<i32, Stored>,
    ids: HashMap<ContentKey, i32>,
    subjects: BTreeMap<String, BTreeMap<i32, Version>>,
    configs: HashMap<Option<String>, CompatibilityLevel>,
    modes: HashMap<Option<String>, Mode>,
    max_id: i32,
}

impl State {
    /// Applies one record.
    pub(crate) fn apply(&mut self, record: Record) {
        match record {
            Record::Schema { subject, version, value: Some(v) } => self.put_version(subject, version, v),
            Record::Schema { subject, version, value: None } => {
                let mut released = None;
                if let Some(versions) = self.subjects.get_mut(&subject) {
                    released = versions.remove(&version).map(|old| old.id);
                    if versions.is_empty() {
                        self.subjects.remove(&subject);
                    }
                }
                if let Some(id) = released {
                    self.release(id);
                }
            }
            Record::DeleteSubject { subject, version } => {
                if let Some(versions) = self.subjects.get_mut(&subject) {
                    versions.range_mut(..=version).for_each(|(_, v)| v.deleted = true);
                }
            }
            Record::Config { subject, level: Some(l) } => {
                self.configs.insert(subject, l);
            }
            Record::Config { subject, level: None } => {
                self.configs.remove(&subject);
            }
            Record::Mode { subject, mode: Some(m) } => {
                self.modes.insert(subject, m);
            }
            Record::Mode { subject, mode: None } => {
                self.modes.remove(&subject);
            }
            Record::Noop => {}
        }
    }

    fn put_version(&mut self, subject: String, version: i32, v: SchemaValue) {
        self.max_id = self.max_id.max(v.id);
        let previous =
            self.subjects.entry(subject).or_default().insert(version, Version { id: v.id, deleted: v.deleted });
        let stored = self.schemas.entry(v.id).or_insert_with(|| Stored {
            schema_type: v.schema_type,
            schema: v.schema.clone(),
            references: v.references.clone(),
            uses: 0,
        });
        stored.uses += 1;
        self.ids.entry((v.schema_type, v.schema, v.references)).or_insert(v.id);
        if let Some(old) = previous {
            self.release(old.id);
        }
    }

    /// One subject version stopped using `id`; forgets the schema when none uses it.
    fn release(&mut self, id: i32) {
        let Some(stored) = self.schemas.get_mut(&id) else { return };
        stored.uses = stored.uses.saturating_sub(1);
        if stored.uses == 0 {
            let stored = self.schemas.remove(&id);
            if let Some(s) = stored {
                let key = (s.schema_type, s.schema, s.references);
                if self.ids.get(&key) == Some(&id) {
                    self.ids.remove(&key);
                }
            }
        }
    }

    /// The highest id ever seen (ids are never reused).
    pub(crate) fn max_id(&self) -> i32 {
        self.max_id
    }

    /// The id of an equal schema, if any.
    pub(crate) fn id_of(&self, key: &ContentKey) -> Option<i32> {
        self.ids.get(key).copied()
    }

    /// The versions of a subject (all, deleted included), ascending.
    pub(crate) fn all_versions(&self, subject: &str) -> impl Iterator<Item = (i32, Version)> + '_ {
        self.subjects.get(subject).into_iter().flat_map(|vs| vs.iter().map(|(n, v)| (*n, *v)))
    }

    /// Whether the subject has a version (a live one unless `deleted`).
    pub(crate) fn has_subject(&self, subject: &str, deleted: bool) -> bool {
        self.all_versions(subject).any(|(_, v)| deleted || !v.deleted)
    }

    /// Subjects starting with `prefix`, with a live version unless `deleted`.
    pub(crate) fn subjects(&self, prefix: &str, deleted: bool) -> Vec<String> {
        self.subjects
            .range(prefix.to_owned()..)
            .take_while(|(s, _)| s.starts_with(prefix))
            .filter(|(_, vs)| vs.values().any(|v| deleted || !v.deleted))
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// The version numbers of a subject (live ones unless `deleted`).
    pub(crate) fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, RegistryError> {
        let out: Vec<i32> = self.all_versions(subject).filter(|(_, v)| deleted || !v.deleted).map(|(n, _)| n).collect();
        if out.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        Ok(out)
    }

    /// A version of a subject: `latest` is the latest live one; a soft-deleted version only
    /// when `deleted`.
    pub(crate) fn version(
        &self,
        subject: &str,
        spec: VersionSpec,
        deleted: bool,
    ) -> Result<SubjectSchema, RegistryError> {
        let found = match spec {
            VersionSpec::Latest => self.all_versions(subject).filter(|(_, v)| !v.deleted).last(),
            VersionSpec::Number(n) => self.all_versions(subject).find(|(m, v)| *m == n && (deleted || !v.deleted)),
        };
        let Some((version, v)) = found else {
            if !self.has_subject(subject, deleted) {
                return Err(RegistryError::SubjectNotFound(subject.to_owned()));
            }
            return Err(RegistryError::VersionNotFound(match spec {
                VersionSpec::Latest => -1,
                VersionSpec::Number(n) => i64::from(n),
            }));
        };
        let stored = self.schemas.get(&v.id).ok_or_else(|| {
            RegistryError::Store(format!(
                "subject '{subject}' version {version} names schema id {} the store lacks",
                v.id
            ))
        })?;
        Ok(SubjectSchema {
            subject: subject.to_owned(),
            version,
            id: v.id,
            schema_type: stored.schema_type,
            references: stored.references.clone(),
            schema: stored.schema.clone(),
            deleted: v.deleted,
        })
    }

    /// A schema by id.
    pub(crate) fn by_id(&self, id: i32) -> Option<SchemaById> {
        self.schemas.get(&id).map(|s| SchemaById {
            schema_type: s.schema_type,
            references: s.references.clone(),
            schema: s.schema.clone(),
        })
    }

    /// The subject versions using `id` (live ones unless `deleted`).
    pub(crate) fn uses_of(&self, id: i32, deleted: bool) -> Vec<(String, i32)> {
        let mut out = Vec::new();
        for (subject, versions) in &self.subjects {
            for (n, v) in versions {
                if v.id == id && (deleted || !v.deleted) {
                    out.push((subject.clone(), *n));
                }
            }
        }
        out
    }

    /// Ids of the schemas that reference `subject` `version` (live ones unless `deleted`).
    pub(crate) fn referenced_by(&self, subject: &str, version: i32, deleted: bool) -> Vec<i32> {
        let mut out: Vec<i32> = self
            .schemas
            .iter()
            .filter(|(_, s)| s.references.iter().any(|r| r.subject == subject && r.version == version))
            .map(|(id, _)| *id)
            .filter(|id| !self.uses_of(*id, deleted).is_empty())
            .collect();
        out.sort_unstable();
        out
    }

    /// The subject's own compatibility level (global when `None`).
    pub(crate) fn config(&self, subject: Option<&str>) -> Option<CompatibilityLevel> {
        self.configs.get(&subject.map(str::to_owned)).copied()
    }

    /// The subject's own mode (global when `None`).
    pub(crate) fn mode(&self, subject: Option<&str>) -> Option<Mode> {
        self.modes.get(&subject.map(str::to_owned)).copied()
    }

    /// Counts for the startup line: (subjects, schemas, subject versions).
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        (self.subjects.len(), self.schemas.len(), self.subjects.values().map(BTreeMap::len).sum())
    }
}
