//! The schema registry behind `tributary schema-registry` and `tributary dev`: Confluent's data
//! model (subjects, versions, global ids, compatibility levels, modes), compatibility checks,
//! and persistence in a compacted Kafka topic.
