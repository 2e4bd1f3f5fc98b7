//! Connector and task units started and stopped one by one, without a broker.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::super::tests::worker_with_headers;
use super::super::{State, TargetState, TaskId, Worker};
use crate::api::Props;

fn worker() -> Worker {
    worker_with_headers("w1", CancellationToken::new())
}

fn props() -> Props {
    Props::from([
        ("name".to_owned(), "boom".to_owned()),
        ("connector.class".to_owned(), "BoomConnector".to_owned()),
        ("tasks.max".to_owned(), "3".to_owned()),
    ])
}

#[tokio::test]
async fn a_connector_unit_answers_task_configs_and_runs_no_task() {
    let w = worker();
    let configs = w.start_connector_unit("boom", &props(), TargetState::Started).await.unwrap();
    assert_eq!(configs.len(), 3);
    assert_eq!(configs[0]["task.class"], "test.Task");
    assert_eq!(w.connector_units().await["boom"].state, State::Running);
    assert!(w.task_units().await.is_empty(), "tasks are separate units");
    assert!(w.statuses().await.is_empty(), "units are not the standalone herder's connectors");
    assert!(w.start_connector_unit("boom", &props(), TargetState::Paused).await.is_none());
    assert_eq!(w.connector_units().await["boom"].state, State::Paused);
    assert!(w.stop_connector_unit("boom").await);
    assert!(!w.stop_connector_unit("boom").await);
    assert!(w.connector_units().await.is_empty());
}

#[tokio::test]
async fn a_task_unit_runs_without_its_connector_and_stops_alone() {
    let w = worker();
    let task =
        Props::from([("mode".to_owned(), "error".to_owned()), ("task.class".to_owned(), "test.Task".to_owned())]);
    let id = TaskId { connector: "boom".into(), task: 1 };
    w.start_task_unit(&id, &props(), &task, TargetState::Started).await;
    // This task fails at its first poll: the unit reports it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let units = w.task_units().await;
        if units[&("boom".to_owned(), 1)].0.state == State::Failed {
            assert_eq!(
                units[&("boom".to_owned(), 1)].0.trace.as_deref(),
                Some("the upstream system refused the login")
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "task never failed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let paused = TaskId { connector: "boom".into(), task: 2 };
    w.start_task_unit(&paused, &props(), &task, TargetState::Paused).await;
    assert_eq!(w.task_units().await[&("boom".to_owned(), 2)].0.state, State::Paused);
    assert!(w.stop_task_unit(&id).await);
    assert_eq!(w.task_units().await.len(), 1);
    w.stop_all_units().await;
    assert!(w.task_units().await.is_empty());
}
