#!/usr/bin/env bash
# The scaled set-up on one machine: N Rasa processes and M action servers sharing
# PostgreSQL (conversations and leads), Redis (Rasa's lock store) and RabbitMQ
# (Rasa's event broker), the leads server and the statistics consumer.
# The same commands, ports and variables as docker-compose.yml and deploy/helm/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
umask 077
venv=${VENV:-.venv}
processes=${RASA_PROCESSES:-2}
action_servers=${ACTION_SERVERS:-2}
rasa_port=${RASA_PORT:-5005}
actions_port=${ACTIONS_PORT:-5055}
leads_port=${LEADS_PORT:-5077}
model=${MODEL:-models/lead-assistant.tar.gz}
export DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export RABBITMQ_URL=${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/}
export RASA_URL="http://127.0.0.1:$rasa_port"
export LEADS_PUBLIC_URL="${LEADS_PUBLIC_URL:-http://localhost:$leads_port}"
mkdir -p logs var
chmod 700 var
# Rasa's HTTP API and the action servers take tokens, as with make run.
export RASA_API_TOKEN="$("$venv/bin/python" -m common.tokens rasa)"
export ACTIONS_TOKEN="$("$venv/bin/python" -m common.tokens actions)"
pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

"$venv/bin/python" -m leads serve --port "$leads_port" > logs/leads.log 2>&1 & pids+=($!)
"$venv/bin/python" -m analytics consume > logs/analytics.log 2>&1 & pids+=($!)
for ((i = 0; i < action_servers; i++)); do
  "$venv/bin/python" -m actions.server --port $((actions_port + i)) > "logs/actions-$i.log" 2>&1 & pids+=($!)
done
ports=()
for ((i = 0; i < processes; i++)); do
  # Each Rasa process calls one action server, in turn; all of them share the conversations.
  PYTHON_BIN="$venv/bin/python" RASA_BIN="$venv/bin/rasa" RASA_PORT=$((rasa_port + i)) MODEL="$model" \
    ACTIONS_URL="http://127.0.0.1:$((actions_port + i % action_servers))/webhook" \
    scripts/rasa-process.sh > "logs/rasa-$i.log" 2>&1 & pids+=($!)
  ports+=("http://localhost:$((rasa_port + i))")
done

cat <<MSG

  The scaled set-up is starting (each Rasa process loads the model: about a minute).
  $processes Rasa processes: ${ports[*]}
  $action_servers action servers from port $actions_port; leads server: http://localhost:$leads_port
  Conversations and leads: ${DATABASE_URL%%\?*}   Locks: $REDIS_URL   Events: RabbitMQ, exchange ${RASA_EVENTS_EXCHANGE:-rasa-exchange}
  Any Rasa process answers any message of any conversation: put a reverse proxy in front
  (deploy/nginx.conf), or send to any of the addresses above.
  Statistics: $venv/bin/python -m analytics stats
  Logs: logs/rasa-*.log, logs/actions-*.log, logs/leads.log, logs/analytics.log. Stop with Ctrl+C.

MSG
wait -n "${pids[@]}" || true
echo "A process stopped; stopping the others (see logs/)." >&2
