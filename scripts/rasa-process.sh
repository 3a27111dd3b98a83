#!/usr/bin/env bash
# One Rasa process of the scaled set-up: writes its endpoints file (SQL tracker store on
# DATABASE_URL, Redis lock store on REDIS_URL, pika event broker on RABBITMQ_URL, the action
# server at ACTIONS_URL) and runs Rasa. Used by scripts/scale.sh and docker-compose.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON_BIN:-python}
rasa=${RASA_BIN:-rasa}
port=${RASA_PORT:-5005}
model=${MODEL:-models/lead-assistant.tar.gz}
endpoints=$(mktemp -t endpoints.XXXXXX.yml)
"$python" -m common.scaling endpoints "$endpoints" --actions-url "${ACTIONS_URL:-http://127.0.0.1:5055/webhook}"
# Rasa's HTTP API token, when one is set.
auth=()
if [ -n "${RASA_API_TOKEN:-}" ]; then auth=(--auth-token "$RASA_API_TOKEN"); fi
exec "$rasa" run --model "$model" --enable-api --port "$port" "${auth[@]}" \
  --endpoints "$endpoints" --credentials credentials.yml --cors "*"
