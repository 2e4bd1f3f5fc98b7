//! Group membership with protocol type `connect` in Kafka's group coordinator.
