#!/usr/bin/env bash
# Apache Kafka for Tributary's tests, benchmarks and dev mode: jars from Maven Central, a
# single-node KRaft broker on loopback. Idempotent: fetching or starting twice is a fast no-op.
set -euo pipefail

KAFKA_VERSION=4.1.1
LOG4J_VERSION=2.24.3
CACHE="${TRIBUTARY_CACHE:-$HOME/.cache/tributary}"
KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
CONNECT_LIBS="$CACHE/connect-$KAFKA_VERSION/libs"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<USAGE
Usage: scripts/kafka.sh COMMAND [--port PORT] [--dir DIR]

Commands:
  fetch          Download Apache Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS
  fetch-connect  Download Kafka Connect $KAFKA_VERSION (runtime, FileStream, JSON) into $CONNECT_LIBS
  start          Start a single-node KRaft broker on 127.0.0.1:PORT (default 9092; controller on PORT+1),
                 data in DIR (default $CACHE/run/kafka-PORT); no-op if one already answers there
  stop           Stop the broker started with the same --port/--dir (SIGTERM, SIGKILL after 30 s)
  status         Say whether a broker answers on PORT
  classpath      Print the directory of the broker's jars

Set TRIBUTARY_CACHE to move the cache (default ~/.cache/tributary).
USAGE
}

# mvn_copy DEST artifact...: copies the artifacts and their runtime dependencies into DEST.
mvn_copy() {
  local dest="$1"; shift
  command -v mvn >/dev/null || die "mvn is not installed (apt-get install maven)"
  local tmp deps=""
  tmp="$(mktemp -d)"
  for a in "$@"; do
    IFS=: read -r g n v <<<"$a"
    deps+="<dependency><groupId>$g</groupId><artifactId>$n</artifactId><version>$v</version></dependency>"
  done
  cat >"$tmp/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>tributary</groupId><artifactId>fetch</artifactId><version>1</version>
<dependencies>$deps</dependencies></project>
POM
  mkdir -p "$dest"
  if ! mvn -q -B -f "$tmp/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dest" >"$tmp/mvn.log" 2>&1; then
    cat "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    die "mvn could not fetch $*"
  fi
  rm -rf "$tmp"
  touch "$dest/.complete"
}

log4j_deps() {
  echo "org.apache.logging.log4j:log4j-core:$LOG4J_VERSION org.apache.logging.log4j:log4j-slf4j-impl:$LOG4J_VERSION"
}

fetch() {
  if [ -f "$KAFKA_LIBS/.complete" ]; then
    say "Apache Kafka $KAFKA_VERSION jars: already in $KAFKA_LIBS"
    return
  fi
  say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS (once, about a minute)"
  # shellcheck disable=SC2046
  mvn_copy "$KAFKA_LIBS" "org.apache.kafka:kafka_2.13:$KAFKA_VERSION" "org.apache.kafka:kafka-tools:$KAFKA_VERSION" $(log4j_deps)
  say "fetched $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars"
}

fetch_connect() {
  if [ -f "$CONNECT_LIBS/.complete" ]; then
    say "Kafka Connect $KAFKA_VERSION jars: already in $CONNECT_LIBS"
    return
  fi
  say "fetching Kafka Connect $KAFKA_VERSION jars from Maven Central into $CONNECT_LIBS"
  # shellcheck disable=SC2046
  mvn_copy "$CONNECT_LIBS" "org.apache.kafka:connect-runtime:$KAFKA_VERSION" "org.apache.kafka:connect-file:$KAFKA_VERSION" \
    "org.apache.kafka:connect-json:$KAFKA_VERSION" "org.apache.kafka:connect-transforms:$KAFKA_VERSION" $(log4j_deps)
  say "fetched $(find "$CONNECT_LIBS" -name '*.jar' | wc -l) jars"
}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

java_cmd() {
  local dir="$1"; shift
  java -Xms256m -Xmx1g -XX:+UseG1GC -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$KAFKA_LIBS/*" "$@"
}

start() {
  if answers "$PORT"; then
    say "Kafka already running on 127.0.0.1:$PORT"
    return
  fi
  fetch
  local cport=$((PORT + 1))
  mkdir -p "$DIR"
  cat >"$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
  cat >"$DIR/log4j2.properties" <<L4J
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $DIR/kafka.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
L4J
  if [ ! -f "$DIR/data/meta.properties" ]; then
    say "formatting KRaft storage in $DIR/data"
    local id
    id="$(java_cmd "$DIR" kafka.tools.StorageTool random-uuid)"
    java_cmd "$DIR" kafka.tools.StorageTool format -t "$id" -c "$DIR/server.properties" >"$DIR/format.out" 2>&1 \
      || { cat "$DIR/format.out" >&2; die "formatting failed"; }
  fi
  say "starting Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (log: $DIR/kafka.log)"
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC -Dlog4j2.configurationFile="$DIR/log4j2.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$DIR/server.properties" >"$DIR/kafka.out" 2>&1 </dev/null &
  echo $! >"$DIR/kafka.pid"
  for _ in $(seq 1 120); do
    if answers "$PORT"; then
      say "Kafka is up on 127.0.0.1:$PORT (pid $(cat "$DIR/kafka.pid"))"
      return
    fi
    if ! kill -0 "$(cat "$DIR/kafka.pid")" 2>/dev/null; then
      tail -n 30 "$DIR/kafka.out" "$DIR/kafka.log" >&2 || true
      die "the broker exited while starting"
    fi
    sleep 0.5
  done
  tail -n 30 "$DIR/kafka.log" >&2 || true
  die "the broker did not open 127.0.0.1:$PORT within 60 s"
}

stop() {
  local pidfile="$DIR/kafka.pid"
  if [ ! -f "$pidfile" ] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    say "no broker of ours running for $DIR"
    rm -f "$pidfile"
    return
  fi
  local pid
  pid="$(cat "$pidfile")"
  say "stopping Kafka (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; say "stopped"; return; }
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  say "killed after 30 s"
}

cmd="${1:-}"
[ -n "$cmd" ] || { usage; exit 1; }
shift
PORT=9092
DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
DIR="${DIR:-$CACHE/run/kafka-$PORT}"

case "$cmd" in
  fetch) fetch ;;
  fetch-connect) fetch_connect ;;
  start) start ;;
  stop) stop ;;
  status) if answers "$PORT"; then say "Kafka answers on 127.0.0.1:$PORT"; else say "nothing on 127.0.0.1:$PORT"; exit 1; fi ;;
  classpath) echo "$KAFKA_LIBS" ;;
  -h|--help|help) usage ;;
  *) usage; exit 1 ;;
esac
