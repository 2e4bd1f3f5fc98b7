#!/usr/bin/env bash
# Creates (once) the Python virtualenv with Confluent's client that the interop tests run:
# ~/.cache/tributary/venv, from tools/python/requirements.txt. Prints the interpreter's path.
# Idempotent: re-installs only when the requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '==> %s\n' "$*" >&2; }
venv="${TRIBUTARY_VENV:-$HOME/.cache/tributary/venv}"
req=tools/python/requirements.txt
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  say "Python client env: ready ($venv)"
else
  command -v python3 >/dev/null 2>&1 || { echo "error: python3 is missing: apt-get install python3 python3-venv" >&2; exit 1; }
  say "Python client env: creating $venv with $(python3 --version) and $req"
  python3 -m venv "$venv" || { echo "error: python3 -m venv failed: apt-get install python3-venv" >&2; exit 1; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
