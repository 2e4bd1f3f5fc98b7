#!/usr/bin/env bash
# Runs Tributary's whole test suite on this machine: installs what is missing (Debian packages,
# Apache Kafka's jars), starts the shared test broker on 127.0.0.1:19092 and Mosquitto on
# 127.0.0.1:11883 (and :11884 with a password), then checks formatting
# and lints and runs every test against the real broker. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '==> %s\n' "$*"; }

bash scripts/setup.sh
# --fresh: a broker this run starts begins empty (tests create their own topics; thousands left
# by earlier runs make the start slow). A broker that already runs is reused as it is.
bash scripts/kafka.sh start --port 19092 --fresh
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:19092}"
# Mosquitto for the MQTT connector tests: one open broker, and one that needs a password (the
# wrong-credentials test).
bash scripts/mosquitto.sh start --port 11883 --fresh
bash scripts/mosquitto.sh start --port 11884 --passwd tributary:tributary-secret --fresh
export MQTT_URL="${MQTT_URL:-tcp://127.0.0.1:11883}"
export MQTT_AUTH_URL="${MQTT_AUTH_URL:-tcp://127.0.0.1:11884}"

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings
say "cargo test --workspace (broker: $KAFKA_BOOTSTRAP_SERVERS)"
cargo test --workspace --quiet -- "$@"
