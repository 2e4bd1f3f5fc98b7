//! The connector API: the Connect data model, configuration definitions, converters and the
//! traits connectors implement. Connectors and converters depend on this module only.

pub mod config;
pub mod connector;
pub mod converter;
pub mod error;
pub mod kafka_output;
pub mod record;
pub mod schema;
pub mod transaction;
pub mod transform;
pub mod value;

pub use config::{
    Config, ConfigDef, ConfigError, ConfigErrors, ConfigKey, ConfigType, ConfigValue, Importance, Password, Validator,
    Width,
};
pub use connector::{
    Connector, ConnectorContext, FixedOffsetReader, OffsetReader, Props, ReconfigurationRequests, SinkConnector,
    SinkOffsets, SinkTask, SinkTaskContext, SourceConnector, SourceTask, SourceTaskContext,
};
pub use converter::{Converter, ConverterFactory, HeaderConverter, SchemaAndValue};
pub use error::{ConnectError, ConnectResult, ErrorKind};
pub use kafka_output::{KafkaOutput, KafkaWrites, OutputRecord};
pub use record::{
    Header, Headers, OffsetMap, RecordMetadata, SinkRecord, SourceRecord, TopicPartition, decode_map, encode_map,
};
pub use schema::{Field, Parameters, Schema, SchemaBuilder, SchemaError, SchemaType};
pub use transaction::{Boundary, TransactionContext};
pub use transform::{ConnectRecord, Predicate, PredicateFactory, TransformFactory, Transformation};
pub use value::{Struct, Value};
