#!/usr/bin/env bash
# Eclipse Mosquitto for Tributary's MQTT tests and benchmarks: the Debian package, run on
# loopback with a config file of its own. Idempotent: starting twice is a fast no-op.
set -euo pipefail

CACHE="${TRIBUTARY_CACHE:-$HOME/.cache/tributary}"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<USAGE
Usage: scripts/mosquitto.sh COMMAND [--port PORT] [--dir DIR] [--passwd USER:PASSWORD] [--tls] [--client-certs]
                               [--ws-port PORT] [--fresh]

Manages a Mosquitto MQTT broker (Debian package \`mosquitto\`) on 127.0.0.1 for tests.

Commands:
  install  Install the Debian package with apt-get if mosquitto is missing.
  start    Start a broker on 127.0.0.1:PORT (default 1883), state in DIR (default
           $CACHE/run/mosquitto-PORT): persistence on (sessions and queued QoS 1/2
           messages survive a restart), 10,000 in-flight messages per client and up to
           1,000,000 queued messages per session (100k-message tests queue them all).
           With --passwd, clients must log in as USER with PASSWORD (anonymous refused).
           With --tls, the listener speaks TLS (ssl://127.0.0.1:PORT) with a server
           certificate for 127.0.0.1 and localhost signed by a CA generated with openssl
           on first use: clients trust DIR/tls/ca.pem.
           With --client-certs (implies --tls), clients must also present a certificate
           signed by that CA: DIR/tls/client.pem with its key DIR/tls/client.key.
           With --ws-port, a second listener speaks MQTT over WebSocket on that port of the
           loopback interface (ws://127.0.0.1:WS_PORT/mqtt; wss:// with --tls). Mosquitto
           2.0 serves WebSockets only beside a plain listener, bound to an interface.
           Persistent sessions nobody resumes expire after an hour, so the sessions that
           tests leave behind do not pile up. With --fresh, a broker this command starts
           begins with no saved state (the test suite does); one already running is kept.
           Returns once the broker accepts connections; a no-op if ours already runs.
  stop     Stop the broker started in DIR: SIGTERM, then SIGKILL after 10 s.
  status   Say whether our broker runs on PORT (exit 1 if not).

Logs: DIR/mosquitto.log. Tests read MQTT_URL (e.g. tcp://127.0.0.1:11883).
USAGE
}

install() {
  if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then
    return
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  say "installing the Debian package mosquitto (apt-get install mosquitto)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends mosquitto >/dev/null
}

mosquitto_bin() {
  command -v mosquitto 2>/dev/null || echo /usr/sbin/mosquitto
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# our_pid: the pid of the broker started in $DIR, if it still runs.
our_pid() {
  local pid
  pid="$(cat "$DIR/mosquitto.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q "mosquitto -c $DIR/mosquitto.conf" \
    && echo "$pid"
}

# make_certs: a CA and a server certificate (SAN 127.0.0.1, localhost) in $DIR/tls, kept across
# restarts so clients keep trusting the same CA.
make_certs() {
  local tls="$DIR/tls"
  [ -s "$tls/server.pem" ] && [ -s "$tls/ca.pem" ] && return
  command -v openssl >/dev/null 2>&1 || die "--tls needs openssl"
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Tributary test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$tls/server.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 3650 -extfile "$tls/server.ext" -out "$tls/server.pem" 2>/dev/null
  chmod 600 "$tls/ca.key" "$tls/server.key"
}

# make_client_cert: a client certificate signed by the CA of make_certs, in $DIR/tls.
make_client_cert() {
  local tls="$DIR/tls"
  # Kept while the CA that signed it is the current one.
  [ -s "$tls/client.pem" ] && [ "$tls/client.pem" -nt "$tls/ca.pem" ] && return
  openssl req -newkey rsa:2048 -nodes -subj "/CN=tributary-test-client" \
    -keyout "$tls/client.key" -out "$tls/client.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$tls/client.ext"
  openssl x509 -req -in "$tls/client.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 3650 -extfile "$tls/client.ext" -out "$tls/client.pem" 2>/dev/null
  chmod 600 "$tls/client.key"
}

write_config() {
  local auth="allow_anonymous true"
  if [ -n "$PASSWD" ]; then
    local user="${PASSWD%%:*}" pass="${PASSWD#*:}"
    # mosquitto_passwd hashes the password; the file must not be world-readable.
    : >"$DIR/passwd"
    chmod 600 "$DIR/passwd"
    mosquitto_passwd -b "$DIR/passwd" "$user" "$pass"
    auth="allow_anonymous false
password_file $DIR/passwd"
  fi
  local tls=""
  if [ -n "$TLS" ]; then
    make_certs
    tls="cafile $DIR/tls/ca.pem
certfile $DIR/tls/server.pem
keyfile $DIR/tls/server.key"
    if [ -n "$CLIENT_CERTS" ]; then
      make_client_cert
      tls="$tls
require_certificate true"
    fi
  fi
  local ws=""
  if [ -n "$WS_PORT" ]; then
    # Mosquitto 2.0 hands a WebSocket listener's address to libwebsockets, which takes an
    # interface name: lo keeps it on loopback.
    ws="listener $WS_PORT lo
protocol websockets
$tls"
  fi
  cat >"$DIR/mosquitto.conf.tmp" <<CONF
# Written by scripts/mosquitto.sh; rewritten on each start.
per_listener_settings false
# Run as whoever started it (as root, mosquitto would switch to the user mosquitto, who cannot
# write to DIR).
user $(id -un)
listener $PORT 127.0.0.1
$tls
$ws
$auth
persistence true
persistence_location $DIR/data/
autosave_interval 5
# Sessions of clients that never come back (each test uses its own client ids) are dropped
# after an hour instead of queueing messages forever.
persistent_client_expiration 1h
log_dest file $DIR/mosquitto.log
log_type error
log_type warning
log_type notice
connection_messages true
# Unacknowledged QoS 1/2 messages per client (default 20): the source acknowledges a message only
# once Kafka holds it, so a small window would throttle it to the producer's latency. 10,000
# matches the default of the source's mqtt.max.unacked.messages.
max_inflight_messages 10000
max_queued_messages 1000000
max_queued_bytes 0
CONF
  mv "$DIR/mosquitto.conf.tmp" "$DIR/mosquitto.conf"
}

start() {
  mkdir -p "$DIR/data"
  exec 9>"$DIR/start.lock"
  flock -w 30 9 || die "another start in $DIR holds $DIR/start.lock"
  local pid
  if pid="$(our_pid)" && port_open "$PORT"; then
    say "Mosquitto already running on 127.0.0.1:$PORT (pid $pid)"
    return
  fi
  if [ -n "${pid:-}" ]; then
    die "our Mosquitto (pid $pid, state in $DIR) runs but does not listen on 127.0.0.1:$PORT: stop it first ($0 stop --dir $DIR)"
  fi
  if port_open "$PORT"; then
    die "127.0.0.1:$PORT is taken by a process that is not our Mosquitto (see $0 status)"
  fi
  install
  if [ "$FRESH" = 1 ] && [ -n "$(ls -A "$DIR/data" 2>/dev/null)" ]; then
    say "--fresh: deleting the saved state of the previous broker in $DIR/data ($(du -sh "$DIR/data" | cut -f1))"
    rm -rf "$DIR/data"
    mkdir -p "$DIR/data"
  fi
  write_config
  say "starting Mosquitto $("$(mosquitto_bin)" -h 2>/dev/null | head -n1 | awk '{print $3}') on 127.0.0.1:$PORT (state in $DIR)"
  cd "$DIR"
  nohup "$(mosquitto_bin)" -c "$DIR/mosquitto.conf" >"$DIR/mosquitto.out" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$DIR/mosquitto.pid"
  local t0=$SECONDS
  while [ $((SECONDS - t0)) -lt 20 ]; do
    if port_open "$PORT" && { [ -z "$WS_PORT" ] || port_open "$WS_PORT"; }; then
      say "Mosquitto is up on 127.0.0.1:$PORT${WS_PORT:+ (WebSocket :$WS_PORT)} (pid $pid)"
      return
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$DIR/mosquitto.out" >&2
      tail -n 20 "$DIR/mosquitto.log" >&2 2>/dev/null || true
      die "mosquitto exited while starting"
    fi
    sleep 0.2
  done
  die "mosquitto did not listen on 127.0.0.1:$PORT within 20 s (pid $pid)"
}

stop() {
  local pid
  if ! pid="$(our_pid)"; then
    say "no Mosquitto of ours running in $DIR"
    rm -f "$DIR/mosquitto.pid"
    return
  fi
  say "stopping Mosquitto (pid $pid)"
  kill -TERM "$pid"
  local t0=$SECONDS
  while [ $((SECONDS - t0)) -lt 10 ]; do
    kill -0 "$pid" 2>/dev/null || { rm -f "$DIR/mosquitto.pid"; say "stopped"; return; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/mosquitto.pid"
  say "killed (SIGKILL) after 10 s"
}

status() {
  local pid
  if pid="$(our_pid)" && port_open "$PORT"; then
    say "Mosquitto serves on 127.0.0.1:$PORT (pid $pid, dir $DIR)"
  else
    say "no Mosquitto of ours serving on 127.0.0.1:$PORT"
    exit 1
  fi
}

cmd="${1:-}"
[ -n "$cmd" ] || { usage; exit 1; }
shift
PORT=1883
DIR=""
PASSWD=""
TLS=""
FRESH=0
CLIENT_CERTS=""
WS_PORT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="${2:?--port needs a value}"; shift 2 ;;
    --dir) DIR="${2:?--dir needs a value}"; shift 2 ;;
    --passwd) PASSWD="${2:?--passwd needs USER:PASSWORD}"; shift 2 ;;
    --tls) TLS=1; shift ;;
    --fresh) FRESH=1; shift ;;
    --client-certs) TLS=1; CLIENT_CERTS=1; shift ;;
    --ws-port) WS_PORT="${2:?--ws-port needs a value}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
DIR="${DIR:-$CACHE/run/mosquitto-$PORT}"
DIR="$(realpath -m "$DIR")"

case "$cmd" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 1 ;;
esac
