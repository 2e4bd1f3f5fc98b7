//! The datagen task: records of one quickstart schema, keyed by its key field.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tributary_runtime::api::{
    ConnectError, ConnectResult, Headers, OffsetMap, Props, Schema, SchemaType, SourceRecord, SourceTask,
    SourceTaskContext, Value, decode_map, encode_map,
};

use super::config::config_def;
use super::quickstart::{self, Generator};

/// Records per poll when `max.interval` is 0.
const FAST_BATCH: usize = 1000;

#[derive(Serialize, Deserialize)]
struct TaskPartition {
    #[serde(rename = "task.id")]
    task_id: i64,
}

const GENERATION: &str = "task.generation";
const ITERATION: &str = "current.iteration";
const SEED: &str = "random.seed";

/// As Confluent's task stores it: the state to resume from (the next generation, the next
/// iteration, and the seed the generator was reseeded with after the last record).
#[derive(Serialize, Deserialize)]
struct TaskOffset {
    #[serde(rename = "task.generation")]
    task_generation: i64,
    #[serde(rename = "current.iteration")]
    current_iteration: i64,
    #[serde(rename = "random.seed", default, skip_serializing_if = "Option::is_none")]
    random_seed: Option<i64>,
}

/// Generates records.
#[derive(Debug)]
pub struct DatagenTask {
    generator: Option<Generator>,
    topic: Arc<str>,
    key_index: usize,
    max_interval: Duration,
    iterations: i64,
    count: i64,
    generation: i64,
    partition: Arc<OffsetMap>,
    task_id: i64,
    header_schema: Arc<Schema>,
    rng: SmallRng,
    announced_done: bool,
}

impl Default for DatagenTask {
    fn default() -> Self {
        Self {
            generator: None,
            topic: Arc::from(""),
            key_index: 0,
            max_interval: Duration::ZERO,
            iterations: 0,
            count: 0,
            generation: 0,
            partition: Arc::new(OffsetMap::new()),
            task_id: 0,
            header_schema: Schema::primitive(SchemaType::Int64),
            rng: SmallRng::seed_from_u64(0),
            announced_done: false,
        }
    }
}

impl DatagenTask {
    fn record(&mut self) -> ConnectResult<SourceRecord> {
        let generator = self.generator.as_ref().ok_or_else(|| ConnectError::fatal("datagen task used before start"))?;
        let value = generator.generate(&mut self.rng, self.count)?;
        let mut headers = Headers::new();
        let long = Some(self.header_schema.clone());
        headers.add(GENERATION, long.clone(), Value::Int64(self.generation));
        headers.add("task.id", long.clone(), Value::Int64(self.task_id));
        headers.add(ITERATION, long, Value::Int64(self.count));
        self.count += 1;
        // Reseed after every record, so the stored seed determines what comes after a restart.
        let seed: i64 = self.rng.random();
        self.rng = SmallRng::seed_from_u64(seed as u64);
        let key_field = generator.schema().fields().get(self.key_index);
        let key_schema = key_field.map(|f| f.schema.clone());
        let key = value.get_index(self.key_index).cloned().unwrap_or(Value::Null);
        // The TaskOffset layout, built directly rather than through serde: this runs per record.
        let mut offset = OffsetMap::new();
        offset.insert(GENERATION.to_owned(), (self.generation + 1).into());
        offset.insert(ITERATION.to_owned(), self.count.into());
        offset.insert(SEED.to_owned(), seed.into());
        let mut record = SourceRecord::new(
            self.partition.clone(),
            offset,
            self.topic.clone(),
            Some(generator.schema().clone()),
            value.into(),
        )
        .with_key(key_schema, key);
        record.headers = headers;
        Ok(record)
    }
}

#[async_trait]
impl SourceTask for DatagenTask {
    async fn start(&mut self, ctx: SourceTaskContext, props: &Props) -> ConnectResult<()> {
        let c = config_def().parse(props)?;
        let spec = quickstart::find(&c.string("quickstart"))
            .ok_or_else(|| ConnectError::config("quickstart", "unknown quickstart"))?;
        let generator = Generator::new(spec)?;
        let key_field = c.opt_string("schema.keyfield").unwrap_or_else(|| spec.key_field.to_owned());
        self.key_index = generator.schema().field(&key_field).map(|f| f.index).ok_or_else(|| {
            ConnectError::config(
                "schema.keyfield",
                format!("'{key_field}' is not a field of the {} quickstart", spec.name),
            )
        })?;
        self.generator = Some(generator);
        self.topic = c.string("kafka.topic").into();
        self.max_interval = c.millis("max.interval").unwrap_or_default();
        self.iterations = c.long("iterations").unwrap_or(-1);
        let task = ctx.task as i64;
        self.task_id = task;
        self.rng = match c.long("random.seed") {
            Some(seed) => SmallRng::seed_from_u64((seed as u64).wrapping_add(task as u64)),
            None => SmallRng::from_os_rng(),
        };
        self.partition = Arc::new(
            encode_map(&TaskPartition { task_id: task })
                .map_err(|e| ConnectError::fatal_from("cannot encode partition", e))?,
        );
        if let Some(stored) = ctx.offsets.offset(&self.partition).await? {
            let o: TaskOffset =
                decode_map(&stored).map_err(|e| ConnectError::fatal_from("stored datagen offset is malformed", e))?;
            self.count = o.current_iteration;
            self.generation = o.task_generation;
            if let Some(seed) = o.random_seed {
                self.rng = SmallRng::seed_from_u64(seed as u64);
            }
            tracing::info!(iteration = self.count, "resuming from stored offset");
        }
        Ok(())
    }

    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        let remaining = if self.iterations > 0 { self.iterations - self.count } else { i64::MAX };
        if remaining <= 0 {
            if !self.announced_done {
                tracing::info!(records = self.count, "generated the configured iterations; task is idle");
                self.announced_done = true;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            return Ok(Vec::new());
        }
        if self.max_interval.is_zero() {
            let n = remaining.min(FAST_BATCH as i64) as usize;
            return (0..n).map(|_| self.record()).collect();
        }
        let wait = self.rng.random_range(0..=self.max_interval.as_millis() as u64);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        Ok(vec![self.record()?])
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }
}
