//! In-process test plugins: a registry holding Tributary's converters and one test connector,
//! and a sink connector without settings whose one task is a given type.

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use tributary_runtime::Registry;
use tributary_runtime::api::{ConfigDef, ConnectResult, Connector, Props, SinkConnector, SinkTask};
use tributary_runtime::plugins::ConnectorPlugin;

/// A registry with Tributary's converters and `plugin`.
pub(crate) fn registry_with(plugin: ConnectorPlugin) -> Arc<Registry> {
    let mut r = Registry::new();
    tributary_converters::register(&mut r);
    r.add_connector(plugin);
    Arc::new(r)
}

/// A sink connector without settings that runs one task, a `T::default()`.
pub(crate) struct OneTaskSink<T>(PhantomData<fn() -> T>);

impl<T> Default for OneTaskSink<T> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

#[async_trait]
impl<T: SinkTask + Default + 'static> Connector for OneTaskSink<T> {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    async fn start(&mut self, _props: &Props) -> ConnectResult<()> {
        Ok(())
    }
    fn task_configs(&self, _max_tasks: usize) -> ConnectResult<Vec<Props>> {
        Ok(vec![Props::new()])
    }
}

impl<T: SinkTask + Default + 'static> SinkConnector for OneTaskSink<T> {
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(T::default())
    }
}
