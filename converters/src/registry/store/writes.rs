//! The registry's writes: register, delete, config and mode changes. Each takes the write lock,
//! reads the store up to date, decides under a short read lock which records to write, then
//! writes them and returns once they are applied.

use super::super::compat;
use super::super::error::RegistryError;
use super::super::model::{CompatibilityLevel, Mode, SchemaRequest, VersionSpec};
use super::super::records::{Record, SchemaValue};
use super::super::state::State;
use super::SchemaRegistry;

impl SchemaRegistry {
    /// Registers `req` under `subject` and returns its global id: the existing one when an equal
    /// schema is registered anywhere, and no new version when it is a live version of `subject`.
    pub async fn register(&self, subject: &str, req: &SchemaRequest) -> Result<i32, RegistryError> {
        let _write = self.begin().await?;
        let (id, records) = self.plan_register(&self.read(), subject, req)?;
        self.commit(records).await?;
        Ok(id)
    }

    fn plan_register(
        &self,
        st: &State,
        subject: &str,
        req: &SchemaRequest,
    ) -> Result<(i32, Vec<Record>), RegistryError> {
        Self::refuse_if_read_only(st, Some(subject))?;
        let mode = Self::mode_in_scope(st, Some(subject));
        match (req.id, mode) {
            (Some(_), Mode::Import) | (None, Mode::ReadWrite) => {}
            (Some(_), _) => {
                return Err(RegistryError::OperationNotPermitted(format!(
                    "Subject {subject} in context . is not in import mode"
                )));
            }
            (None, _) => {
                return Err(RegistryError::OperationNotPermitted(format!(
                    "Subject {subject} in context . is not in read-write mode"
                )));
            }
        }
        let parsed = Self::parse_request(st, req)?;
        let key = (req.schema_type, parsed.canonical.clone(), req.references.clone());
        let existing = st.id_of(&key);
        if let (Some(given), Some(found)) = (req.id, existing)
            && given != found
        {
            return Err(RegistryError::IdDoesNotMatch(format!(
                "Schema already registered with id {found} instead of input id {given}"
            )));
        }
        let all: Vec<_> = st.all_versions(subject).collect();
        if req.version.is_none()
            && let Some(found) = existing
            && all.iter().any(|(_, v)| v.id == found && !v.deleted)
        {
            return Ok((found, Vec::new()));
        }
        let next_version = all.last().map_or(1, |(n, _)| n.saturating_add(1));
        let version = match req.version {
            Some(v) if mode == Mode::Import && v >= 1 => v,
            Some(v) if v != next_version => {
                return Err(RegistryError::InvalidSchema("Version is not one more than previous version".into()));
            }
            _ => next_version,
        };
        if mode != Mode::Import {
            let level = self.level_in_scope(st, subject);
            let live: Vec<_> = all.iter().copied().filter(|(_, v)| !v.deleted).collect();
            let previous = Self::parse_previous(st, subject, &live, level)?;
            let problems = compat::check(level, &parsed, &previous);
            if !problems.is_empty() {
                return Err(RegistryError::Incompatible(format!(
                    "Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]",
                    problems.join(", ")
                )));
            }
        }
        let id = match (req.id, existing) {
            (Some(given), _) => {
                if st.by_id(given).is_some() && existing != Some(given) {
                    return Err(RegistryError::IdDoesNotMatch(format!(
                        "Overwrite new schema with id {given} is not permitted: the id belongs to another schema"
                    )));
                }
                given
            }
            (None, Some(found)) => found,
            (None, None) => st
                .max_id()
                .checked_add(1)
                .ok_or_else(|| RegistryError::Store("no schema id left: the store reached 2^31-1".into()))?,
        };
        // As Confluent: soft-deleted earlier versions of the same schema make way for the new one.
        let mut records: Vec<Record> = all
            .iter()
            .filter(|(n, v)| v.deleted && v.id == id && *n < version)
            .map(|(n, _)| Record::Schema { subject: subject.to_owned(), version: *n, value: None })
            .collect();
        records.push(Record::Schema {
            subject: subject.to_owned(),
            version,
            value: Some(SchemaValue {
                id,
                schema_type: req.schema_type,
                schema: parsed.canonical,
                references: req.references.clone(),
                deleted: false,
            }),
        });
        Ok((id, records))
    }

    /// Deletes one version: soft (hidden, id still readable) or, after that, `permanent`.
    /// Returns the version number.
    pub async fn delete_version(
        &self,
        subject: &str,
        spec: VersionSpec,
        permanent: bool,
    ) -> Result<i32, RegistryError> {
        let _write = self.begin().await?;
        let (version, records) = {
            let st = self.read();
            Self::refuse_if_read_only(&st, Some(subject))?;
            let found = match spec {
                VersionSpec::Latest => st.version(subject, spec, false).map(|v| (v.version, v.id, v.deleted)),
                VersionSpec::Number(n) => match st.all_versions(subject).find(|(m, _)| *m == n) {
                    Some((_, v)) if v.deleted && !permanent => {
                        return Err(RegistryError::VersionSoftDeleted(subject.to_owned(), n));
                    }
                    Some((_, v)) => Ok((n, v.id, v.deleted)),
                    None if st.has_subject(subject, true) => Err(RegistryError::VersionNotFound(i64::from(n))),
                    None => Err(RegistryError::SubjectNotFound(subject.to_owned())),
                },
            };
            let (version, id, deleted) = found?;
            if !st.referenced_by(subject, version, permanent).is_empty() {
                return Err(RegistryError::ReferenceExists(format!(
                    "SchemaKey{{subject={subject},version={version}}}"
                )));
            }
            if permanent && !deleted {
                return Err(RegistryError::VersionNotSoftDeleted(subject.to_owned(), version));
            }
            let mut records = Vec::new();
            if permanent {
                records.push(Record::Schema { subject: subject.to_owned(), version, value: None });
                if st.all_versions(subject).all(|(n, _)| n == version) {
                    records.extend(Self::subject_settings_removal(&st, subject));
                }
            } else {
                let s = st.version(subject, VersionSpec::Number(version), true)?;
                records.push(Record::Schema {
                    subject: subject.to_owned(),
                    version,
                    value: Some(SchemaValue {
                        id,
                        schema_type: s.schema_type,
                        schema: s.schema,
                        references: s.references,
                        deleted: true,
                    }),
                });
            }
            (version, records)
        };
        self.commit(records).await?;
        Ok(version)
    }

    /// Tombstones for a subject's own config and mode, as Confluent writes when the subject's
    /// last version goes.
    fn subject_settings_removal(st: &State, subject: &str) -> Vec<Record> {
        let mut records = Vec::new();
        if st.mode(Some(subject)).is_some() {
            records.push(Record::Mode { subject: Some(subject.to_owned()), mode: None });
        }
        if st.config(Some(subject)).is_some() {
            records.push(Record::Config { subject: Some(subject.to_owned()), level: None });
        }
        records
    }

    /// Deletes a subject: soft (every live version hidden) or, after that, `permanent`.
    /// Returns the versions deleted.
    pub async fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<i32>, RegistryError> {
        let _write = self.begin().await?;
        let (versions, records) = {
            let st = self.read();
            if !st.has_subject(subject, true) {
                return Err(RegistryError::SubjectNotFound(subject.to_owned()));
            }
            if !permanent && !st.has_subject(subject, false) {
                return Err(RegistryError::SubjectSoftDeleted(subject.to_owned()));
            }
            Self::refuse_if_read_only(&st, Some(subject))?;
            let targets: Vec<_> = st.all_versions(subject).filter(|(_, v)| permanent || !v.deleted).collect();
            for (n, v) in &targets {
                let others: Vec<i32> = st.referenced_by(subject, *n, permanent);
                let outside = others.iter().any(|id| st.uses_of(*id, permanent).iter().any(|(s, _)| s != subject));
                if outside {
                    return Err(RegistryError::ReferenceExists(format!("SchemaKey{{subject={subject},version={n}}}")));
                }
                if permanent && !v.deleted {
                    return Err(RegistryError::SubjectNotSoftDeleted(subject.to_owned()));
                }
            }
            let versions: Vec<i32> = targets.iter().map(|(n, _)| *n).collect();
            let mut records = Vec::new();
            if permanent {
                records.extend(versions.iter().rev().map(|n| Record::Schema {
                    subject: subject.to_owned(),
                    version: *n,
                    value: None,
                }));
                records.extend(Self::subject_settings_removal(&st, subject));
            } else if let Some(last) = versions.last() {
                records.push(Record::DeleteSubject { subject: subject.to_owned(), version: *last });
            }
            (versions, records)
        };
        self.commit(records).await?;
        Ok(versions)
    }

    /// Sets the compatibility level of a subject, or the registry's when `None`.
    pub async fn set_config(
        &self,
        subject: Option<&str>,
        level: CompatibilityLevel,
    ) -> Result<CompatibilityLevel, RegistryError> {
        let _write = self.begin().await?;
        Self::refuse_if_read_only(&self.read(), subject)?;
        self.commit(vec![Record::Config { subject: subject.map(str::to_owned), level: Some(level) }]).await?;
        Ok(level)
    }

    /// Removes a subject's level (40401 when it has none) or resets the registry's to the
    /// default; returns the level removed.
    pub async fn delete_config(&self, subject: Option<&str>) -> Result<CompatibilityLevel, RegistryError> {
        let _write = self.begin().await?;
        let previous = {
            let st = self.read();
            Self::refuse_if_read_only(&st, subject)?;
            match subject {
                Some(s) => st.config(Some(s)).ok_or_else(|| RegistryError::SubjectNotFound(s.to_owned()))?,
                None => st.config(None).unwrap_or(self.default_compatibility),
            }
        };
        self.commit(vec![Record::Config { subject: subject.map(str::to_owned), level: None }]).await?;
        Ok(previous)
    }

    /// Sets the mode of a subject, or the registry's when `None`. IMPORT needs the scope to have
    /// no live subjects unless `force`.
    pub async fn set_mode(&self, subject: Option<&str>, mode: Mode, force: bool) -> Result<Mode, RegistryError> {
        let _write = self.begin().await?;
        {
            let st = self.read();
            if mode == Mode::Import && Self::mode_in_scope(&st, subject) != Mode::Import && !force {
                let busy = match subject {
                    Some(s) => st.has_subject(s, false),
                    None => !st.subjects("", false).is_empty(),
                };
                if busy {
                    return Err(RegistryError::OperationNotPermitted(
                        "Cannot import since found existing subjects".into(),
                    ));
                }
            }
        }
        self.commit(vec![Record::Mode { subject: subject.map(str::to_owned), mode: Some(mode) }]).await?;
        Ok(mode)
    }

    /// Removes a subject's mode (40401 when it has none) or resets the registry's to READWRITE;
    /// returns the mode removed.
    pub async fn delete_mode(&self, subject: Option<&str>) -> Result<Mode, RegistryError> {
        let _write = self.begin().await?;
        let previous = {
            let st = self.read();
            match subject {
                Some(s) => st.mode(Some(s)).ok_or_else(|| RegistryError::SubjectNotFound(s.to_owned()))?,
                None => st.mode(None).unwrap_or_default(),
            }
        };
        self.commit(vec![Record::Mode { subject: subject.map(str::to_owned), mode: None }]).await?;
        Ok(previous)
    }
}
