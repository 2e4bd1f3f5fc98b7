//! The schema registry client of the Avro converter: schema_registry_converter's HTTP calls
//! (several URLs with failover, basic or bearer auth) driven by a small runtime of its own, so
//! the converter's synchronous calls work from any thread, inside or outside tokio. The
//! converter caches every answer, so these calls happen once per schema, not per record.

use std::future::Future;
use std::sync::mpsc;

use schema_registry_converter::async_impl::schema_registry::{
    SrSettings, get_schema_by_id, perform_sr_call, post_schema,
};
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::{SchemaType, SrCall, SuppliedSchema};
use tokio::runtime::Runtime;
use tributary_runtime::api::ConnectError;

/// A registry client with its own one-thread runtime.
pub(crate) struct RegistryClient {
    settings: SrSettings,
    runtime: Option<Runtime>,
    urls: String,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Credentials stay out of debug output.
        f.debug_struct("RegistryClient").field("urls", &self.urls).finish_non_exhaustive()
    }
}

/// How the client authenticates.
#[derive(Clone, Debug)]
pub(crate) enum Auth {
    None,
    Basic(String, String),
    Bearer(String),
}

fn describe(e: &SRCError) -> String {
    match &e.cause {
        Some(c) => format!("{}: {c}", e.error),
        None => e.error.clone(),
    }
}

fn to_connect_error(what: &str, e: SRCError) -> ConnectError {
    let msg = format!("{what}: {}", describe(&e));
    if e.retriable || e.cause.as_deref().is_some_and(|c| c.contains("error sending request")) {
        ConnectError::retriable(msg)
    } else {
        ConnectError::data(msg)
    }
}

impl RegistryClient {
    /// A client for `urls` (tried in order until one answers).
    pub(crate) fn new(urls: &[String], auth: Auth, timeout: std::time::Duration) -> Result<Self, ConnectError> {
        let Some(first) = urls.first() else {
            return Err(ConnectError::config("schema.registry.url", "at least one URL is required"));
        };
        let mut b = SrSettings::new_builder(first.clone());
        for u in &urls[1..] {
            b.add_url(u.clone());
        }
        match &auth {
            Auth::None => {}
            Auth::Basic(user, pass) => {
                b.set_basic_authorization(user, Some(pass));
            }
            Auth::Bearer(token) => {
                b.set_token_authorization(token);
            }
        }
        b.set_timeout(timeout);
        let settings = b.build().map_err(|e| ConnectError::config("schema.registry.url", describe(&e)))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("schema-registry-client")
            .enable_all()
            .build()
            .map_err(|e| ConnectError::fatal(format!("cannot start the schema registry client: {e}")))?;
        Ok(Self { settings, runtime: Some(runtime), urls: urls.join(",") })
    }

    /// Runs `fut` on the client's runtime and waits for it, without blocking a tokio worker
    /// thread of the caller's runtime where that can be avoided.
    fn call<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, SRCError>> + Send + 'static,
    ) -> Result<T, SRCError> {
        let gone = || SRCError::non_retryable_without_cause("the schema registry client is shut down");
        let Some(rt) = &self.runtime else { return Err(gone()) };
        let (tx, rx) = mpsc::sync_channel(1);
        rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        let wait = move || rx.recv();
        let got = match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        };
        got.unwrap_or_else(|_| Err(gone()))
    }

    /// The schema text registered under `id`.
    pub(crate) fn schema_by_id(&self, id: u32) -> Result<String, ConnectError> {
        let s = self.settings.clone();
        self.call(async move { get_schema_by_id(id, &s).await })
            .map(|r| r.schema)
            .map_err(|e| to_connect_error(&format!("cannot fetch schema id {id} from the schema registry"), e))
    }

    /// Registers `schema` under `subject` (or finds it registered), answering its id.
    pub(crate) fn register(&self, subject: &str, schema: &str) -> Result<u32, ConnectError> {
        let s = self.settings.clone();
        let subject_owned = subject.to_owned();
        let supplied = SuppliedSchema::new(None, SchemaType::Avro, schema.to_owned());
        self.call(async move { post_schema(&s, subject_owned, supplied).await })
            .map(|r| r.id)
            .map_err(|e| to_connect_error(&format!("cannot register the schema under subject {subject}"), e))
    }

    /// The id and version of `schema` in `subject`, without registering it.
    pub(crate) fn lookup(&self, subject: &str, schema: &str) -> Result<(u32, Option<u32>), ConnectError> {
        let s = self.settings.clone();
        let body = serde_json::json!({"schema": schema}).to_string();
        let subject_owned = subject.to_owned();
        self.call(async move { perform_sr_call(&s, SrCall::PostForVersion(&subject_owned, &body)).await })
            .map_err(|e| to_connect_error(&format!("schema not found in subject {subject}"), e))
            .and_then(|r| match r.id {
                Some(id) => Ok((id, r.version)),
                None => Err(ConnectError::data(format!("the schema registry answered no id for subject {subject}"))),
            })
    }

    /// The latest schema of `subject`: id and text.
    pub(crate) fn latest(&self, subject: &str) -> Result<(u32, String), ConnectError> {
        let s = self.settings.clone();
        let subject_owned = subject.to_owned();
        self.call(async move { perform_sr_call(&s, SrCall::GetLatest(&subject_owned)).await })
            .map_err(|e| to_connect_error(&format!("cannot fetch the latest schema of subject {subject}"), e))
            .and_then(|r| match (r.id, r.schema) {
                (Some(id), Some(schema)) => Ok((id, schema)),
                _ => Err(ConnectError::data(format!(
                    "the schema registry answered no id and schema for subject {subject}"
                ))),
            })
    }
}

impl Drop for RegistryClient {
    fn drop(&mut self) {
        // Dropping a runtime inside another runtime's context panics; shut it down in the
        // background instead.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
