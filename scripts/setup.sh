#!/usr/bin/env bash
# Creates the virtual environment and installs the pinned dependencies.
set -euo pipefail
venv=${1:-.venv}
here=$(cd "$(dirname "$0")/.." && pwd)
python=$("$here/scripts/find-python.sh")
log="$venv.install.log"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)'; then
  rm -rf "$venv"
  echo "Creating $venv with $python"
  "$python" -m venv "$venv"
fi
echo "Installing dependencies (a few minutes the first time; log: $log)"
if ! "$venv/bin/pip" install --disable-pip-version-check -r "$here/requirements-dev.txt" >"$log" 2>&1; then
  grep -v "is ignored: it is neither a file nor a directory" "$log" | tail -30 >&2
  echo "error: installing the dependencies failed; see $log" >&2
  exit 1
fi
