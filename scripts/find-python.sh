#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 needs exactly 3.10).
# Looks on PATH, then under pyenv; fails with a clear message otherwise.
set -u
is_310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

for candidate in "${PYTHON:-}" python3.10 python3 python; do
  [ -n "$candidate" ] || continue
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if is_310 "$path"; then echo "$path"; exit 0; fi
done

roots=()
command -v pyenv >/dev/null 2>&1 && roots+=("$(pyenv root 2>/dev/null)")
roots+=("${PYENV_ROOT:-}" "$HOME/.pyenv")
for root in "${roots[@]}"; do
  [ -n "$root" ] && [ -d "$root/versions" ] || continue
  for path in $(ls -d "$root"/versions/3.10*/bin/python3.10 2>/dev/null | sort -rV); do
    if is_310 "$path"; then echo "$path"; exit 0; fi
  done
done

echo "error: Python 3.10 is required (Rasa Open Source 3.6 does not install on 3.11 or newer)." >&2
echo "       Put python3.10 on PATH, or install it with pyenv: 'pyenv install 3.10.13'," >&2
echo "       or name an interpreter: 'make PYTHON=/path/to/python3.10 run'." >&2
exit 1
