//! Tributary's connectors, one module per family, each behind a cargo feature of the same name.
//! [`register`] adds the compiled families to a registry and records the others as disabled,
//! so a config naming them gets "needs cargo feature X" rather than "unknown class".

#[cfg(feature = "datagen")]
pub mod datagen;
#[cfg(feature = "file")]
pub mod file;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "mqtt")]
pub mod mqtt;

use tributary_runtime::plugins::Registry;

/// Adds every connector compiled into this build.
pub fn register(registry: &mut Registry) {
    #[cfg(feature = "file")]
    file::register(registry);
    #[cfg(not(feature = "file"))]
    {
        registry.add_disabled("org.apache.kafka.connect.file.FileStreamSourceConnector", "file");
        registry.add_disabled("org.apache.kafka.connect.file.FileStreamSinkConnector", "file");
    }
    #[cfg(feature = "datagen")]
    datagen::register(registry);
    #[cfg(not(feature = "datagen"))]
    registry.add_disabled("io.confluent.kafka.connect.datagen.DatagenConnector", "datagen");
    #[cfg(feature = "kafka")]
    kafka::register(registry);
    #[cfg(not(feature = "kafka"))]
    registry.add_disabled("io.tributary.connect.kafka.KafkaSinkConnector", "kafka");
    #[cfg(feature = "mqtt")]
    mqtt::register(registry);
    #[cfg(not(feature = "mqtt"))]
    {
        registry.add_disabled("io.confluent.connect.mqtt.MqttSourceConnector", "mqtt");
        registry.add_disabled("io.confluent.connect.mqtt.MqttSinkConnector", "mqtt");
    }
}
