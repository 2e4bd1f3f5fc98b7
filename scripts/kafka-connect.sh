#!/usr/bin/env bash
# Kafka Connect's own distributed worker (org.apache.kafka.connect.cli.ConnectDistributed), run from
# the Kafka Connect jars that `scripts/kafka.sh fetch-connect` caches, on loopback: the oracle of the
# REST differential test (tests/rest_differential.rs). Idempotent: starting twice is a fast no-op.
set -euo pipefail
cd "$(dirname "$0")/.."

KAFKA_VERSION=4.1.1 # as scripts/kafka.sh
CACHE="${TRIBUTARY_CACHE:-$HOME/.cache/tributary}"
CONNECT_LIBS="$CACHE/connect-$KAFKA_VERSION/libs"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<USAGE
Usage: scripts/kafka-connect.sh COMMAND [--port PORT] [--dir DIR] [--bootstrap HOST:PORT]

Manages one Kafka Connect $KAFKA_VERSION distributed worker, REST on http://127.0.0.1:PORT
(default 18083), against the broker at --bootstrap (default 127.0.0.1:19092).

Commands:
  start   Fetch the jars if missing (scripts/kafka.sh fetch-connect), write DIR/worker.properties
          (group.id and internal topics named after PORT, replication factor 1, JsonConverter,
          FileStream connectors on plugin.path) and start the worker; returns once its REST API
          answers and it has joined its group. A no-op if it already answers on PORT.
  stop    Stop the worker started in DIR: SIGTERM, then SIGKILL after 30 s.
  status  Say whether a Kafka Connect worker answers on PORT (exit 1 if not).

DIR defaults to $CACHE/run/kafka-connect-PORT. Logs: INFO to DIR/connect.log, stdout and
stderr of the JVM to DIR/connect.out. The broker must be running (scripts/kafka.sh start).
USAGE
}

# root_json: GET / of the worker on $PORT (Kafka Connect answers {"version":...,"commit":...,
# "kafka_cluster_id":...}); fails if nothing answers or the answer is not Kafka Connect's.
root_json() {
  local out
  out="$(curl -sf -m 3 "http://127.0.0.1:$PORT/" 2>/dev/null)" || return 1
  case "$out" in *'"kafka_cluster_id"'*) echo "$out" ;; *) return 1 ;; esac
}

# ready: REST answers and the herder has joined the group (GET /connectors answers 200, not the
# 409/500 a worker gives while it is still starting).
ready() {
  root_json >/dev/null && [ "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/connectors")" = 200 ]
}

# our_pid: the pid of the worker started in $DIR, if it still runs.
our_pid() {
  local pid
  pid="$(cat "$DIR/connect.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" \
    | grep -q "ConnectDistributed $DIR/worker.properties" && echo "$pid"
}

write_config() {
  # The FileStream connectors are not on the worker's classpath but in a plugin directory, as
  # Kafka ships them since 3.2 (KAFKA-13748): the classpath is every jar but connect-file.
  mkdir -p "$DIR/plugins/connect-file"
  rm -f "$DIR"/plugins/connect-file/*.jar
  ln -s "$CONNECT_LIBS"/connect-file-*.jar "$DIR/plugins/connect-file/"
  local topics="tributary-diff-connect-$PORT"
  cat >"$DIR/worker.properties" <<PROPS
bootstrap.servers=$BOOTSTRAP
group.id=$topics
listeners=http://127.0.0.1:$PORT
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$PORT
plugin.path=$DIR/plugins
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
config.storage.topic=$topics-configs
offset.storage.topic=$topics-offsets
status.storage.topic=$topics-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
offset.storage.partitions=5
status.storage.replication.factor=1
status.storage.partitions=1
offset.flush.interval.ms=1000
scheduled.rebalance.max.delay.ms=1000
PROPS
  cat >"$DIR/log4j2.properties" <<'L4J'
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:connect.logs.dir}/connect.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
L4J
}

start() {
  command -v java >/dev/null || die "java is not installed (scripts/setup.sh installs a JDK)"
  command -v curl >/dev/null || die "curl is not installed (apt-get install curl)"
  mkdir -p "$DIR"
  exec 9>"$DIR/start.lock" # one start at a time per DIR; the worker does not inherit the lock
  flock -w 120 9 || die "another start in $DIR holds $DIR/start.lock"
  if ready; then
    say "Kafka Connect already running on http://127.0.0.1:$PORT"
    return
  fi
  local pid
  if pid="$(our_pid)"; then
    say "Kafka Connect (pid $pid) is starting on http://127.0.0.1:$PORT"
  else
    curl -s -m 2 -o /dev/null "http://127.0.0.1:$PORT/" \
      && die "127.0.0.1:$PORT is taken by something that is not a ready Kafka Connect worker"
    [ -f "$CONNECT_LIBS/.complete" ] || bash scripts/kafka.sh fetch-connect
    write_config
    local cp
    cp="$(find "$CONNECT_LIBS" -name '*.jar' ! -name 'connect-file-*' | sort | paste -sd:)"
    say "starting Kafka Connect $KAFKA_VERSION (distributed, group $(grep '^group.id=' "$DIR/worker.properties" | cut -d= -f2)) on http://127.0.0.1:$PORT against $BOOTSTRAP (logs in $DIR)"
    cd "$DIR"
    nohup java -Xms128m -Xmx1g -XX:+UseG1GC -Dlog4j2.configurationFile="$DIR/log4j2.properties" \
      -Dconnect.logs.dir="$DIR" -cp "$cp" org.apache.kafka.connect.cli.ConnectDistributed "$DIR/worker.properties" \
      >"$DIR/connect.out" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$DIR/connect.pid"
  fi
  local t0=$SECONDS
  while [ $((SECONDS - t0)) -lt 120 ]; do
    if ready; then
      say "Kafka Connect is up on http://127.0.0.1:$PORT (pid $pid, $((SECONDS - t0)) s)"
      return
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$DIR/connect.out" >&2 || true
      grep -E ' (ERROR|WARN) ' "$DIR/connect.log" 2>/dev/null | tail -n 10 >&2 || true
      die "Kafka Connect exited while starting (full log: $DIR/connect.log)"
    fi
    [ $((SECONDS - t0)) -gt 0 ] && [ $(((SECONDS - t0) % 10)) -eq 0 ] && say "waiting for Kafka Connect ($((SECONDS - t0)) s)"
    sleep 1
  done
  die "Kafka Connect did not answer on http://127.0.0.1:$PORT within 120 s (pid $pid still runs; log $DIR/connect.log; stop it with: $0 stop --port $PORT --dir $DIR)"
}

stop() {
  local pid
  if ! pid="$(our_pid)"; then
    say "no Kafka Connect worker of ours running in $DIR"
    rm -f "$DIR/connect.pid"
    return
  fi
  say "stopping Kafka Connect (pid $pid)"
  kill -TERM "$pid"
  local t0=$SECONDS
  while [ $((SECONDS - t0)) -lt 30 ]; do
    kill -0 "$pid" 2>/dev/null || { rm -f "$DIR/connect.pid"; say "stopped in $((SECONDS - t0)) s"; return; }
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/connect.pid"
  say "killed (SIGKILL) after 30 s"
}

status() {
  local pid="" root
  pid="$(our_pid)" || true
  if root="$(root_json)"; then
    say "Kafka Connect answers on http://127.0.0.1:$PORT${pid:+ (pid $pid, dir $DIR)}: $root"
  else
    say "no Kafka Connect answering on http://127.0.0.1:$PORT${pid:+ (pid $pid in $DIR runs but does not answer yet)}"
    exit 1
  fi
}

cmd="${1:-}"
[ -n "$cmd" ] || { usage; exit 1; }
shift
PORT=18083
DIR=""
BOOTSTRAP="127.0.0.1:19092"
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="${2:?--port needs a value}"; shift 2 ;;
    --dir) DIR="${2:?--dir needs a value}"; shift 2 ;;
    --bootstrap) BOOTSTRAP="${2:?--bootstrap needs a value}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
DIR="${DIR:-$CACHE/run/kafka-connect-$PORT}"
DIR="$(realpath -m "$DIR")"

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 1 ;;
esac
