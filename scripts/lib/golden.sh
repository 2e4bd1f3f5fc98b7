# Sourced by the golden-vector scripts (scripts/json-golden.sh, scripts/smt-golden.sh,
# tools/number-golden/run.sh), from the repository root.
#
# run_generator FILE.java CLASS [ARG]...: compiles FILE.java against Kafka Connect 4.1.1's jars
# (fetched by `scripts/kafka.sh fetch-connect`) and runs CLASS with ARGs and a JDK 19 or newer:
# its Double.toString prints the shortest digits, which Tributary follows (JDK 17's is
# sometimes longer, e.g. 1.17549435E-38 for Float.MIN_NORMAL). Locale and time zone are pinned
# (en_US, UTC): SimpleDateFormat's day and month names follow the locale. The generator's
# standard output is this function's.
run_generator() {
  local src="$1" class="$2"
  shift 2
  bash scripts/kafka.sh fetch-connect >&2
  local libs
  libs="$(dirname "$(bash scripts/kafka.sh classpath)")/../connect-4.1.1/libs"
  libs="$(cd "$libs" && pwd)"
  local jdk="" home major
  for home in ${JAVA_HOME:-} /usr/lib/jvm/*; do
    [ -x "$home/bin/javac" ] || continue
    major="$("$home/bin/java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p')"
    if [ -n "$major" ] && [ "$major" -ge 19 ]; then jdk="$home/bin"; break; fi
  done
  [ -n "$jdk" ] || { echo "error: $0 needs a JDK 19+ (set JAVA_HOME)" >&2; return 1; }
  echo "==> generating with $("$jdk/java" -version 2>&1 | head -n1)" >&2
  local tmp
  tmp="$(mktemp -d)"
  "$jdk/javac" -nowarn -cp "$libs/*" -d "$tmp" "$src" || { rm -rf "$tmp"; return 1; }
  local status=0
  "$jdk/java" -Duser.language=en -Duser.country=US -Duser.timezone=UTC -cp "$libs/*:$tmp" "$class" "$@" || status=$?
  rm -rf "$tmp"
  return "$status"
}
