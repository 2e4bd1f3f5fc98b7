"""A third-party Kafka Connect client against a worker: kafka-connect-py (PyPI, pinned in
tools/python/requirements.txt) drives the whole life of a FileStreamSource connector with nothing
but its own API, and every answer is checked. Run by tests/rest_client.rs; also runs against Kafka
Connect itself, which is how the expectations were checked:

    python tests/python/connect_client.py http://127.0.0.1:18083 /tmp/some-dir some-topic

Exits 0 when all checks pass; prints each step, and the first failed check, with the answer.
"""

import sys
import time
import uuid

from kafka_connect import KafkaConnect
from requests.exceptions import HTTPError

url, workdir, topic = sys.argv[1], sys.argv[2], sys.argv[3]
name = f"client-{uuid.uuid4().hex[:10]}"
kc = KafkaConnect(url=url)


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", flush=True)
        sys.exit(1)
    print(f"ok: {what}", flush=True)


def settled(call, *args):
    """Calls the client, retrying while the worker answers that a rebalance is under way or expected
    (409/500 from a distributed worker after a config change, as Kafka Connect documents)."""
    deadline = time.time() + 30
    while True:
        try:
            return call(*args)
        except HTTPError as e:
            r = e.response
            if r is None or r.status_code not in (409, 500) or "rebalance" not in r.text or time.time() > deadline:
                raise
            time.sleep(0.25)


def wait_state(want, what, timeout=60):
    """Polls get_connector_status until the connector and all its tasks (at least one) are in `want`."""
    deadline = time.time() + timeout
    status = None
    while time.time() < deadline:
        try:
            status = kc.get_connector_status(name)
        except HTTPError:
            status = None
        if (status and status["connector"]["state"] == want and status["tasks"]
                and all(t["state"] == want for t in status["tasks"])):
            check(True, f"{what}: connector and tasks {want}")
            return status
        time.sleep(0.25)
    check(False, f"{what}: connector and tasks {want} within {timeout} s, last status {status}")


info = kc.get_cluster_info()
check({"version", "commit", "kafka_cluster_id"} <= set(info), f"get_cluster_info -> {info}")

config = {"connector.class": "FileStreamSource", "file": f"{workdir}/in.txt", "topic": topic, "tasks.max": "1"}
created = kc.create_connector({"name": name, "config": config})
check(created["name"] == name and created["config"] == dict(config, name=name) and created["type"] == "source",
      f"create_connector -> {created}")

listed = kc.list_connectors()
check(name in listed, f"list_connectors -> {listed}")

got = kc.get_connector(name)
check(got["name"] == name and got["type"] == "source", f"get_connector -> {got}")
check(kc.get_connector_config(name) == dict(config, name=name), "get_connector_config returns the config given")

status = wait_state("RUNNING", "after create")
check(status["name"] == name and status["type"] == "source" and status["tasks"][0]["id"] == 0,
      f"get_connector_status -> {status}")
expanded = kc.list_connectors(expand="status", state="RUNNING")
check(expanded.get(name, {}).get("status", {}).get("name") == name,
      f"list_connectors(expand=status, state=RUNNING) -> {expanded.get(name)}")

kc.pause_connector(name)
wait_state("PAUSED", "pause_connector")
kc.resume_connector(name)
wait_state("RUNNING", "resume_connector")

restarted = kc.restart_connector(name)  # no tasks, no onlyFailed: 204, nothing returned
check(restarted is None, f"restart_connector -> {restarted}")
wait_state("RUNNING", "after restart_connector")
plan = kc.restart_connector(name, include_tasks=True)  # 202 with the restart plan
check(plan["name"] == name and plan["connector"]["state"] == "RESTARTING"
      and [t["state"] for t in plan["tasks"]] == ["RESTARTING"], f"restart_connector(include_tasks=True) -> {plan}")
wait_state("RUNNING", "after restart_connector(include_tasks=True)")

updated_config = dict(config, **{"batch.size": "100"})
updated = kc.update_connector(name, updated_config)
check(updated["name"] == name and updated["config"] == dict(updated_config, name=name),
      f"update_connector -> {updated}")
deadline = time.time() + 60
while settled(kc.get_connector_config, name) != dict(updated_config, name=name) and time.time() < deadline:
    time.sleep(0.25)
check(settled(kc.get_connector_config, name) == dict(updated_config, name=name), "get_connector_config after update")
wait_state("RUNNING", "after update_connector")

deadline = time.time() + 60
while True:
    tasks = settled(kc.list_connector_tasks, name)
    if tasks and tasks[0]["config"].get("batch.size") == "100" or time.time() > deadline:
        break
    time.sleep(0.25)
check(len(tasks) == 1 and tasks[0]["id"] == {"connector": name, "task": 0}
      and tasks[0]["config"]["file"] == f"{workdir}/in.txt" and tasks[0]["config"]["topic"] == topic,
      f"list_connector_tasks -> {tasks}")
task = settled(kc.get_connector_task_status, name, 0)
check(task["id"] == 0 and task["state"] == "RUNNING" and task["worker_id"], f"get_connector_task_status -> {task}")

check(kc.delete_connector(name) is None, "delete_connector")
deadline = time.time() + 30
while name in kc.list_connectors() and time.time() < deadline:
    time.sleep(0.25)
check(name not in kc.list_connectors(), "list_connectors after delete")
try:
    kc.get_connector(name)
    check(False, "get_connector after delete raises HTTPError 404")
except HTTPError as e:
    check(e.response is not None and e.response.status_code == 404, f"get_connector after delete -> {e}")
print("all checks passed")
