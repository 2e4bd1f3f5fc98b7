#!/usr/bin/env bash
# Runs `tributary dev` from this checkout: installs what is missing (Debian packages, Apache
# Kafka's jars), builds the release binary, then starts Kafka and a worker on 127.0.0.1.
# Extra arguments go to `tributary dev` (see `tributary dev --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
printf '==> building tributary (release; the first build takes a few minutes)\n'
cargo build --release --quiet
exec target/release/tributary dev "$@"
