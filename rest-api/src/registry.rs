//! Confluent Schema Registry REST API over the store in `tributary_converters::registry`.
