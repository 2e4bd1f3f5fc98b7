#!/usr/bin/env bash
# Regenerates converters/tests/golden/json_vectors.jsonl with Kafka Connect's own JsonConverter
# (connect-json from Maven Central, fetched by `scripts/kafka.sh fetch-connect`).
# Usage: scripts/json-golden.sh [OUTPUT]   (default: the committed file)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/golden.sh
out="${1:-converters/tests/golden/json_vectors.jsonl}"
run_generator tools/json-golden/GenerateJsonVectors.java GenerateJsonVectors >"$out"
echo "==> wrote $(wc -l <"$out") vectors to $out" >&2
