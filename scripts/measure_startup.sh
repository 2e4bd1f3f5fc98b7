#!/usr/bin/env bash
# Time from start to "ready" and idle RSS of a standalone worker with one connector.
# Usage: scripts/measure_startup.sh [BOOTSTRAP] (default 127.0.0.1:19092; needs target/release/tributary)
set -euo pipefail
cd "$(dirname "$0")/.."
bootstrap="${1:-127.0.0.1:19092}"
bin=target/release/tributary
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
printf 'bootstrap.servers=%s\noffset.storage.file.filename=%s/offsets\nlisteners=http://127.0.0.1:18095\n' "$bootstrap" "$dir" >"$dir/worker.properties"
printf 'name=idle-source\nconnector.class=FileStreamSource\nfile=%s/in.txt\ntopic=idle-%s\n' "$dir" "$RANDOM" >"$dir/source.properties"
for run in 1 2 3 4 5; do
  start=$(date +%s%N)
  TRIBUTARY_LOG=info "$bin" standalone "$dir/worker.properties" "$dir/source.properties" 2>"$dir/log" &
  pid=$!
  until grep -q "standalone worker ready" "$dir/log"; do sleep 0.001; done
  ready=$(( ($(date +%s%N) - start) / 1000000 ))
  sleep 2
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true
  echo "run $run: ready after ${ready} ms (wall clock, including process start); idle RSS $((rss / 1024)).$(( (rss % 1024) * 10 / 1024 )) MB"
done
