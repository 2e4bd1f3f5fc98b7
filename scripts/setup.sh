#!/usr/bin/env bash
# Installs what building and testing Tributary needs on a Debian machine, saying what it does.
# Idempotent: a second run only checks. Used by scripts/dev.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_pkgs=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in build-essential pkg-config cmake libssl-dev libsasl2-dev zlib1g-dev curl; do
  have_pkg "$p" || need_pkgs+=("$p")
done
command -v java >/dev/null 2>&1 || need_pkgs+=(default-jdk-headless)
command -v mvn >/dev/null 2>&1 || need_pkgs+=(maven)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  say "installing Debian packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
else
  say "Debian packages: already installed"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo (Rust 1.95 or newer) is not installed; install it with rustup (https://rustup.rs) and re-run" >&2
  exit 1
fi
say "Rust: $(rustc --version)"
say "Java: $(java -version 2>&1 | head -n1)"

bash scripts/kafka.sh fetch
# Kafka Connect itself: the oracle for the JSON golden vectors and the benchmark peer.
bash scripts/kafka.sh fetch-connect
# Confluent's Python client: the outside client of the Avro and schema registry interop tests.
bash scripts/python-env.sh >/dev/null
# Mosquitto (Debian package) for the MQTT connector tests.
bash scripts/mosquitto.sh install
