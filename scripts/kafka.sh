#!/usr/bin/env bash
# Apache Kafka for Tributary's tests, benchmarks and dev mode: jars from Maven Central, a
# single-node KRaft broker on loopback. Idempotent: fetching or starting twice is a fast no-op.
set -euo pipefail

KAFKA_VERSION=4.1.1 # Scala 2.13 build
LOG4J_VERSION=2.24.3 # what Kafka $KAFKA_VERSION itself ships (Kafka logs through SLF4J 1.7)
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
CACHE="${TRIBUTARY_CACHE:-$HOME/.cache/tributary}"
KAFKA_HOME="$CACHE/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
CONNECT_LIBS="$CACHE/connect-$KAFKA_VERSION/libs"
LOG4J_CONFIG="$KAFKA_HOME/log4j2.properties"
LOGGING="org.apache.logging.log4j:log4j-core:$LOG4J_VERSION org.apache.logging.log4j:log4j-slf4j-impl:$LOG4J_VERSION"
KAFKA_ARTIFACTS="org.apache.kafka:kafka_2.13:$KAFKA_VERSION org.apache.kafka:kafka-server:$KAFKA_VERSION \
org.apache.kafka:kafka-tools:$KAFKA_VERSION $LOGGING"
CONNECT_ARTIFACTS="org.apache.kafka:connect-runtime:$KAFKA_VERSION org.apache.kafka:connect-api:$KAFKA_VERSION \
org.apache.kafka:connect-file:$KAFKA_VERSION org.apache.kafka:connect-json:$KAFKA_VERSION \
org.apache.kafka:connect-transforms:$KAFKA_VERSION $LOGGING"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<USAGE
Usage: scripts/kafka.sh COMMAND [--port PORT] [--controller-port PORT] [--dir DIR] [--set KEY=VALUE]... [--fresh]

Manages a single-node Apache Kafka $KAFKA_VERSION (KRaft) broker run from Maven Central jars.

Commands:
  fetch          Download the broker's jars (and a log4j2 config) into $KAFKA_LIBS.
                 A no-op once complete (marker file libs/.complete).
  fetch-connect  Download Kafka Connect $KAFKA_VERSION (runtime, FileStream connectors, JsonConverter,
                 transforms, logging) into $CONNECT_LIBS.
  start          Start a broker on 127.0.0.1:PORT (default 9092), its controller on 127.0.0.1:PORT+1
                 (or --controller-port), data in DIR (default $CACHE/run/kafka-PORT).
                 Fetches and formats the storage on first use; returns once the broker serves
                 requests. A no-op if a broker already answers on PORT; data is kept across restarts.
                 --set KEY=VALUE (repeatable) adds or overrides a server.properties key.
                 --fresh: when a new broker process starts, delete DIR/data first (the test
                 suite does, so topics of earlier runs do not pile up and slow the start).
                 Waits up to KAFKA_START_TIMEOUT seconds (default 180) for the broker to serve.
  stop           Stop the broker started in DIR: SIGTERM, then SIGKILL after 30 s.
  status         Say whether a broker serves on PORT (exit 1 if not) and which process is ours.
  classpath      Print the directory of the broker's jars (java -cp "DIR/*").

Logs: WARN and above to DIR/kafka.out, INFO to DIR/kafka.log (config: $LOG4J_CONFIG).
Set TRIBUTARY_CACHE to move the cache (default ~/.cache/tributary).
USAGE
}

# fetch_into NAME DEST "ARTIFACTS": unless DEST/.complete lists exactly these artifacts, copies
# them and their runtime dependencies into DEST, a flat directory of jars, with mvn and a generated
# pom. Fetches beside DEST and renames it into place, so an interrupted fetch leaves nothing behind.
fetch_into() {
  local name="$1" dest="$2" artifacts="$3"
  if [ "$(cat "$dest/.complete" 2>/dev/null)" = "$artifacts" ]; then
    say "$name $KAFKA_VERSION jars: already in $dest"
    return
  fi
  say "fetching $name $KAFKA_VERSION jars from Maven Central into $dest"
  command -v mvn >/dev/null || die "mvn is not installed (apt-get install maven)"
  local t0=$SECONDS tmp deps="" a g n v
  mkdir -p "$(dirname "$dest")"
  tmp="$(mktemp -d "$dest.fetch.XXXXXX")"
  for a in $artifacts; do
    IFS=: read -r g n v <<<"$a"
    deps+="<dependency><groupId>$g</groupId><artifactId>$n</artifactId><version>$v</version></dependency>"
  done
  cat >"$tmp/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>tributary</groupId><artifactId>fetch</artifactId><version>1</version>
<dependencies>$deps</dependencies></project>
POM
  if ! mvn -q -B -f "$tmp/pom.xml" "$DEP_PLUGIN:copy-dependencies" -DincludeScope=runtime \
    -DoutputDirectory="$tmp/libs" >"$tmp/mvn.log" 2>&1; then
    cat "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    die "mvn could not fetch $artifacts"
  fi
  echo "$artifacts" >"$tmp/libs/.complete"
  rm -rf "$dest.old"
  if [ -d "$dest" ]; then mv "$dest" "$dest.old"; fi
  mv "$tmp/libs" "$dest"
  rm -rf "$tmp" "$dest.old"
  say "fetched $(find "$dest" -name '*.jar' | wc -l) jars in $((SECONDS - t0)) s"
}

# Kafka's log4j2 config: WARN and above to stdout, INFO and above to kafka.log in the directory
# given by -Dkafka.logs.dir (rolled at 20 MB, 3 kept).
write_log4j_config() {
  mkdir -p "$KAFKA_HOME"
  cat >"$LOG4J_CONFIG.tmp" <<'L4J'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
appender.out.filter.threshold.type = ThresholdFilter
appender.out.filter.threshold.level = WARN
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir:-.}/kafka.log
appender.file.filePattern = ${sys:kafka.logs.dir:-.}/kafka.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
rootLogger.appenderRef.file.ref = FILE
L4J
  mv "$LOG4J_CONFIG.tmp" "$LOG4J_CONFIG"
}

fetch() {
  fetch_into "Apache Kafka" "$KAFKA_LIBS" "$KAFKA_ARTIFACTS"
  write_log4j_config
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# kafka_serves PORT: a Metadata v4 request (all topics) sent over bash's /dev/tcp gets an answer
# that lists at least one broker, i.e. the broker is started and unfenced. Needs no JVM.
kafka_serves() {
  local out
  # shellcheck disable=SC2016 # $1 expands in the inner bash
  # size=16 | api_key=3 version=4 correlation=1 client_id="k" | topics=null allow_auto_create=false
  out="$(timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "\x00\x00\x00\x10\x00\x03\x00\x04\x00\x00\x00\x01\x00\x01k\xff\xff\xff\xff\x00" >&3
    exec head -c 16 <&3' _ "$1" 2>/dev/null | od -An -tu1 -v)" || return 1
  # shellcheck disable=SC2086
  set -- $out # response: size, correlation_id, throttle_time_ms, broker count (4 bytes each)
  [ $# -eq 16 ] && [ $(((${13} << 24) | (${14} << 16) | (${15} << 8) | ${16})) -gt 0 ]
}

# show_failure: the broker's warnings, errors and their causes (stack frames left out), to stderr.
show_failure() {
  grep -E '^\[|^Caused by' "$DIR/kafka.out" 2>/dev/null | tail -n 20 >&2 || true
}

# our_pid: the pid of the broker started in $DIR, if it still runs.
our_pid() {
  local pid
  pid="$(cat "$DIR/kafka.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q "kafka.Kafka $DIR/server.properties" \
    && echo "$pid"
}

start() {
  local limit="${KAFKA_START_TIMEOUT:-180}"
  case "$limit" in '' | *[!0-9]*) die "KAFKA_START_TIMEOUT must be a number of seconds, not '$limit'" ;; esac
  mkdir -p "$DIR/data"
  exec 9>"$DIR/start.lock" # one start at a time per DIR; the broker does not inherit the lock
  # Another start may be waiting for its broker for up to $limit seconds.
  flock -w $((limit + 30)) 9 || die "another start in $DIR holds $DIR/start.lock"
  if kafka_serves "$PORT"; then
    say "Kafka already running on 127.0.0.1:$PORT"
    return
  fi
  local pid
  if pid="$(our_pid)"; then
    say "Kafka (pid $pid) is starting on 127.0.0.1:$PORT"
  else
    port_open "$PORT" && die "127.0.0.1:$PORT is taken by something that is not a Kafka broker"
    fetch
    if [ "$FRESH" = 1 ] && [ -d "$DIR/data" ]; then
      say "--fresh: deleting the data of the previous broker in $DIR/data ($(find "$DIR/data" -mindepth 1 -maxdepth 1 -type d | wc -l) partition directories)"
      rm -rf "$DIR/data"
      mkdir -p "$DIR/data"
    fi
    cat >"$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/data
num.partitions=1
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# A test broker: benchmarks write gigabytes, so old data goes after two hours (compacted
# internal topics keep their latest records).
log.retention.ms=7200000
log.retention.bytes=1073741824
log.segment.bytes=134217728
log.retention.check.interval.ms=60000
PROPS
    # --set KEY=VALUE lines come last: Java's Properties keeps the last value of a key.
    for prop in "${EXTRA_PROPS[@]}"; do
      printf '%s\n' "$prop" >>"$DIR/server.properties"
    done
    if [ ! -f "$DIR/data/meta.properties" ]; then
      say "formatting KRaft storage in $DIR/data"
      local id
      id="$("${JVM[@]}" kafka.tools.StorageTool random-uuid)"
      "${JVM[@]}" kafka.tools.StorageTool format -t "$id" -c "$DIR/server.properties" >"$DIR/format.out" 2>&1 \
        || { cat "$DIR/format.out" >&2; die "formatting failed"; }
    fi
    say "starting Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (controller :$CPORT, logs in $DIR)"
    cd "$DIR"
    nohup "${JVM[@]}" kafka.Kafka "$DIR/server.properties" >"$DIR/kafka.out" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$DIR/kafka.pid"
  fi
  local t0=$SECONDS
  while [ $((SECONDS - t0)) -lt "$limit" ]; do
    if kafka_serves "$PORT"; then
      say "Kafka is up on 127.0.0.1:$PORT (pid $pid, $((SECONDS - t0)) s)"
      return
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      show_failure
      die "the broker exited while starting (full log: $DIR/kafka.log)"
    fi
    [ $((SECONDS - t0)) -gt 0 ] && [ $(((SECONDS - t0) % 5)) -eq 0 ] && say "waiting for Kafka ($((SECONDS - t0)) s)"
    sleep 1
  done
  show_failure
  die "the broker did not serve on 127.0.0.1:$PORT within $limit s (pid $pid still runs; a broker with many partitions in $DIR/data loads them first: start it with --fresh, or raise KAFKA_START_TIMEOUT; stop it with: $0 stop --port $PORT --dir $DIR)"
}

stop() {
  local pid
  if ! pid="$(our_pid)"; then
    say "no broker of ours running in $DIR"
    rm -f "$DIR/kafka.pid"
    return
  fi
  say "stopping Kafka (pid $pid)"
  kill -TERM "$pid"
  local t0=$SECONDS
  while [ $((SECONDS - t0)) -lt 30 ]; do
    kill -0 "$pid" 2>/dev/null || { rm -f "$DIR/kafka.pid"; say "stopped in $((SECONDS - t0)) s"; return; }
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - t0)) -lt 35 ]; do sleep 0.2; done
  rm -f "$DIR/kafka.pid"
  say "killed (SIGKILL) after 30 s"
}

status() {
  local pid=""
  pid="$(our_pid)" || true
  if kafka_serves "$PORT"; then
    say "Kafka serves on 127.0.0.1:$PORT${pid:+ (pid $pid, dir $DIR)}"
  else
    say "no Kafka serving on 127.0.0.1:$PORT${pid:+ (pid $pid in $DIR runs but does not serve yet)}"
    exit 1
  fi
}

cmd="${1:-}"
[ -n "$cmd" ] || { usage; exit 1; }
shift
PORT=9092
CPORT=""
DIR=""
EXTRA_PROPS=()
FRESH=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="${2:?--port needs a value}"; shift 2 ;;
    --controller-port) CPORT="${2:?--controller-port needs a value}"; shift 2 ;;
    --dir) DIR="${2:?--dir needs a value}"; shift 2 ;;
    --set) EXTRA_PROPS+=("${2:?--set needs KEY=VALUE}"); shift 2 ;;
    --fresh) FRESH=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
CPORT="${CPORT:-$((PORT + 1))}"
DIR="${DIR:-$CACHE/run/kafka-$PORT}"
DIR="$(realpath -m "$DIR")"
# The JVM of the broker and of its storage tool; logs go to $DIR (see write_log4j_config).
JVM=(java -Xms256m -Xmx1g -XX:+UseG1GC -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$DIR"
  -cp "$KAFKA_LIBS/*")

case "$cmd" in
  fetch) fetch ;;
  fetch-connect) fetch_into "Kafka Connect" "$CONNECT_LIBS" "$CONNECT_ARTIFACTS" ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  classpath) echo "$KAFKA_LIBS" ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 1 ;;
esac
