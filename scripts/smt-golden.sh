#!/usr/bin/env bash
# Regenerates the golden vectors of the single message transforms and predicates with Kafka
# Connect's own classes (connect-transforms 4.1.1, fetched by `scripts/kafka.sh fetch-connect`):
#   converters/tests/golden/smt_vectors.jsonl   what each transform does with each record
#   converters/tests/golden/smt_config_defs.json every plugin's ConfigDef and validate() errors
# The test replaying them lives in converters/tests/smt_golden.rs (it needs the JsonConverter).
# Usage: scripts/smt-golden.sh [VECTORS] [CONFIG_DEFS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/golden.sh
vectors="${1:-converters/tests/golden/smt_vectors.jsonl}"
defs="${2:-converters/tests/golden/smt_config_defs.json}"
run_generator tools/smt-golden/GenerateSmtVectors.java GenerateSmtVectors "$vectors" "$defs"
echo "==> wrote $(wc -l <"$vectors") vectors to $vectors and the config definitions to $defs" >&2
