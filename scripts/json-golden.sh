#!/usr/bin/env bash
# Regenerates converters/tests/golden/json_vectors.jsonl with Kafka Connect's own JsonConverter
# (connect-json from Maven Central, fetched by `scripts/kafka.sh fetch-connect`).
# Usage: scripts/json-golden.sh [OUTPUT]   (default: the committed file)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-converters/tests/golden/json_vectors.jsonl}"
bash scripts/kafka.sh fetch-connect >&2
libs="$(dirname "$(bash scripts/kafka.sh classpath)")/../connect-4.1.1/libs"
libs="$(cd "$libs" && pwd)"
# A JDK 19 or newer: its Double.toString prints the shortest digits, which Tributary follows
# (JDK 17's is sometimes longer, e.g. 1.17549435E-38 for Float.MIN_NORMAL).
jdk=""
for home in ${JAVA_HOME:-} /usr/lib/jvm/*; do
  [ -x "$home/bin/javac" ] || continue
  major="$("$home/bin/java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p')"
  if [ -n "$major" ] && [ "$major" -ge 19 ]; then jdk="$home/bin"; break; fi
done
[ -n "$jdk" ] || { echo "error: scripts/json-golden.sh needs a JDK 19+ (set JAVA_HOME)" >&2; exit 1; }
echo "==> generating with $("$jdk/java" -version 2>&1 | head -n1)" >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$jdk/javac" -nowarn -cp "$libs/*" -d "$tmp" tools/json-golden/GenerateJsonVectors.java
"$jdk/java" -cp "$libs/*:$tmp" GenerateJsonVectors >"$out"
echo "==> wrote $(wc -l <"$out") vectors to $out" >&2
