#!/usr/bin/env bash
# Starts the action server, the leads server and the Rasa server.
# Only the Rasa server's channels face the network; its HTTP API needs a token,
# the action and leads servers listen on loopback (ACTIONS_HOST, LEADS_HOST).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
umask 077
venv=${VENV:-.venv}
rasa_port=${RASA_PORT:-5005}
actions_port=${ACTIONS_PORT:-5055}
leads_port=${LEADS_PORT:-5077}
model=${MODEL:-models/lead-assistant.tar.gz}
var=${VAR_DIR:-var}
logs=${LOGS_DIR:-logs}
export VAR_DIR="$var"
mkdir -p "$logs" "$var"
chmod 700 "$var"
export RASA_API_TOKEN="$("$venv/bin/python" -m common.tokens rasa)"
export ACTIONS_TOKEN="$("$venv/bin/python" -m common.tokens actions)"
endpoints=$(mktemp -t endpoints.XXXXXX.yml)
"$venv/bin/python" -m common.endpoints "$endpoints" --actions-port "$actions_port"
export RASA_URL="http://127.0.0.1:$rasa_port"
export LEADS_URL="http://127.0.0.1:$leads_port"
export LEADS_PUBLIC_URL="${LEADS_PUBLIC_URL:-http://localhost:$leads_port}"
"$venv/bin/python" -m leads serve --port "$leads_port" > "$logs/leads.log" 2>&1 &
leads_pid=$!
"$venv/bin/python" -m actions.server --port "$actions_port" > "$logs/actions.log" 2>&1 &
actions_pid=$!
trap 'kill $actions_pid $leads_pid 2>/dev/null || true; rm -f "$endpoints"' EXIT INT TERM
sleep 2
token=${LEADS_API_TOKEN:-$(cat "$var/leads_api_token" 2>/dev/null || echo "see $var/leads_api_token")}

cat <<MSG

  The assistant is starting (about 30 seconds). Leads and conversations are stored in ${DATABASE_URL:-$var/leads.db (SQLite)}.

  Website demo with the chat widget:  http://localhost:$rasa_port/webhooks/socketio/demo
  REST channel (back end):  curl -s -XPOST http://localhost:$rasa_port/webhooks/rest/webhook \\
                   -H 'Content-Type: application/json' \\
                   -d '{"sender": "me", "message": "Hi, we need help with our support tickets"}'
  Rasa HTTP API: curl "http://localhost:$rasa_port/status?token=$RASA_API_TOKEN"
  Rep page:      http://localhost:$leads_port/reps (sign in with the leads token: $token)
  Leads API:     curl -H "Authorization: Bearer $token" http://localhost:$leads_port/api/leads
  Terminal chat: make shell (in another terminal)
  Logs: $logs/rasa.log, $logs/actions.log, $logs/leads.log. Stop with Ctrl+C.

MSG
# Libraries' deprecation warnings are for their developers: logs/rasa.log keeps them, the console does not.
"$venv/bin/rasa" run --model "$model" --enable-api --auth-token="$RASA_API_TOKEN" --port "$rasa_port" \
  --endpoints "$endpoints" --credentials credentials.yml 2>&1 \
  | tee "$logs/rasa.log" | awk -f scripts/quiet-warnings.awk
