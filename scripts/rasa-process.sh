#!/usr/bin/env bash
# One Rasa process of the scaled set-up: writes its endpoints file (SQL tracker store on
# DATABASE_URL, Redis lock store on REDIS_URL, pika event broker on RABBITMQ_URL, the action
# server at ACTIONS_URL) and runs Rasa on RASA_INTERFACE (all by default) and RASA_PORT.
# Used by scripts/scale.sh, docker-compose.yml and the scaling tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON_BIN:-python}
rasa=${RASA_BIN:-rasa}
port=${RASA_PORT:-5005}
model=${MODEL:-models/lead-assistant.tar.gz}
endpoints=$(mktemp -t endpoints.XXXXXX.yml)
"$python" -m common.scaling endpoints "$endpoints" --actions-url "${ACTIONS_URL:-http://127.0.0.1:5055/webhook}"
# Rasa's HTTP API always takes a token: RASA_API_TOKEN, or the one generated under var/.
token=${RASA_API_TOKEN:-$("$python" -m common.tokens rasa)}
exec "$rasa" run --model "$model" --enable-api --auth-token="$token" --interface "${RASA_INTERFACE:-0.0.0.0}" \
  --port "$port" --endpoints "$endpoints" --credentials credentials.yml
