#!/usr/bin/env bash
# Regenerates converters/tests/golden/primitive_vectors.jsonl with Kafka Connect 4.1.1's own
# converters (the jars `scripts/kafka.sh fetch-connect` puts in ~/.cache/tributary), as
# scripts/json-golden.sh does for the JsonConverter vectors.
# Usage: tools/number-golden/run.sh [OUTPUT]   (default: the committed file)
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-converters/tests/golden/primitive_vectors.jsonl}"
bash scripts/kafka.sh fetch-connect >&2
libs="$(dirname "$(bash scripts/kafka.sh classpath)")/../connect-4.1.1/libs"
libs="$(cd "$libs" && pwd)"
# A JDK 19 or newer, for the shortest-digit Double.toString Tributary follows.
jdk=""
for home in ${JAVA_HOME:-} /usr/lib/jvm/*; do
  [ -x "$home/bin/javac" ] || continue
  major="$("$home/bin/java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p')"
  if [ -n "$major" ] && [ "$major" -ge 19 ]; then jdk="$home/bin"; break; fi
done
[ -n "$jdk" ] || { echo "error: tools/number-golden/run.sh needs a JDK 19+ (set JAVA_HOME)" >&2; exit 1; }
echo "==> generating with $("$jdk/java" -version 2>&1 | head -n1)" >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$jdk/javac" -nowarn -cp "$libs/*" -d "$tmp" tools/number-golden/GeneratePrimitiveVectors.java
"$jdk/java" -cp "$libs/*:$tmp" GeneratePrimitiveVectors >"$out"
echo "==> wrote $(wc -l <"$out") vectors to $out" >&2
