#!/usr/bin/env bash
# Regenerates converters/tests/golden/primitive_vectors.jsonl with Kafka Connect 4.1.1's own
# converters (the jars `scripts/kafka.sh fetch-connect` puts in ~/.cache/tributary), as
# scripts/json-golden.sh does for the JsonConverter vectors.
# Usage: tools/number-golden/run.sh [OUTPUT]   (default: the committed file)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/golden.sh
out="${1:-converters/tests/golden/primitive_vectors.jsonl}"
run_generator tools/number-golden/GeneratePrimitiveVectors.java GeneratePrimitiveVectors >"$out"
echo "==> wrote $(wc -l <"$out") vectors to $out" >&2
