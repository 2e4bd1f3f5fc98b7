#!/usr/bin/env bash
# Regenerates the golden vectors of the single message transforms and predicates with Kafka
# Connect's own classes (connect-transforms 4.1.1, fetched by `scripts/kafka.sh fetch-connect`):
#   converters/tests/golden/smt_vectors.jsonl   what each transform does with each record
#   converters/tests/golden/smt_config_defs.json every plugin's ConfigDef and validate() errors
# The test replaying them lives in converters/tests/smt_golden.rs (it needs the JsonConverter).
# Usage: scripts/smt-golden.sh [VECTORS] [CONFIG_DEFS]
set -euo pipefail
cd "$(dirname "$0")/.."
vectors="${1:-converters/tests/golden/smt_vectors.jsonl}"
defs="${2:-converters/tests/golden/smt_config_defs.json}"
bash scripts/kafka.sh fetch-connect >&2
libs="$(dirname "$(bash scripts/kafka.sh classpath)")/../connect-4.1.1/libs"
libs="$(cd "$libs" && pwd)"
# A JDK 19 or newer, as for the JSON golden vectors: its Double.toString prints the shortest
# digits, which Tributary follows.
jdk=""
for home in ${JAVA_HOME:-} /usr/lib/jvm/*; do
  [ -x "$home/bin/javac" ] || continue
  major="$("$home/bin/java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p')"
  if [ -n "$major" ] && [ "$major" -ge 19 ]; then jdk="$home/bin"; break; fi
done
[ -n "$jdk" ] || { echo "error: scripts/smt-golden.sh needs a JDK 19+ (set JAVA_HOME)" >&2; exit 1; }
echo "==> generating with $("$jdk/java" -version 2>&1 | head -n1)" >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$jdk/javac" -nowarn -cp "$libs/*" -d "$tmp" tools/smt-golden/GenerateSmtVectors.java
# Default locale and zone pinned: SimpleDateFormat's day and month names follow the locale.
"$jdk/java" -Duser.language=en -Duser.country=US -Duser.timezone=UTC -cp "$libs/*:$tmp" GenerateSmtVectors "$vectors" "$defs"
echo "==> wrote $(wc -l <"$vectors") vectors to $vectors and the config definitions to $defs" >&2
