#!/usr/bin/env bash
# Makes Debian's Chromium available for the browser tests (tests/browser).
# Installs it with apt-get when it is missing and this runs as root; otherwise
# it only says so, and the browser tests skip with the reason.
set -uo pipefail
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$chromium" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser tests (apt-get install chromium; a minute or two)"
  log=$(mktemp -t chromium-install.XXXXXX.log)
  if DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >"$log" 2>&1 \
     || { apt-get update >>"$log" 2>&1 \
          && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >>"$log" 2>&1; }; then
    rm -f "$log"
  else
    tail -5 "$log" >&2
    echo "notice: Chromium could not be installed (log: $log); the browser tests will be skipped." >&2
  fi
else
  echo "notice: no Chromium at $chromium; the browser tests will be skipped (install it: apt-get install chromium)." >&2
fi
exit 0
