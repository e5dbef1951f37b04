#!/usr/bin/env bash
# Starts the action server, the Rasa server (REST, socket.io, the chat window's API) and the
# counsellors' console in the foreground, waits until they answer, says where to chat, and stops
# them all on Ctrl-C / SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

RASA_PORT=${RASA_PORT:-5005}
ACTION_PORT=${ACTION_PORT:-5055}
CONSOLE_PORT=${CONSOLE_PORT:-5080}
HOST=${HOST:-127.0.0.1}
MODEL=${MODEL:-models/orientation.tar.gz}
VENV=${VENV:-.venv}
mkdir -p var/log

export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://127.0.0.1:$ACTION_PORT/webhook}
export TRACKER_DB=${TRACKER_DB:-$PWD/var/tracker.db}

# The ENT pages allowed to embed the chat window, separated by spaces ("*": any page).
read -r -a cors_origins <<< "${CHAT_ALLOWED_ORIGINS:-*}"

pids=()
stop() {
  trap - INT TERM EXIT
  echo "[run] arrêt des serveurs…"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

"$VENV/bin/rasa" run actions --actions bot.actions --port "$ACTION_PORT" \
  > >(tee -a var/log/actions.log) 2>&1 &
pids+=($!)
"$VENV/bin/rasa" run --model "$MODEL" --endpoints endpoints.yml --credentials credentials.yml \
  --interface "$HOST" --port "$RASA_PORT" --cors "${cors_origins[@]}" \
  > >(tee -a var/log/rasa.log) 2>&1 &
pids+=($!)
"$VENV/bin/python" -m console serve --host "$HOST" --port "$CONSOLE_PORT" \
  > >(tee -a var/log/console.log) 2>&1 &
pids+=($!)

echo "[run] démarrage (jusqu'à une minute sur 2 cœurs)…"
for _ in $(seq 1 180); do
  if curl -fsS "http://$HOST:$RASA_PORT/webhooks/rest/" >/dev/null 2>&1 \
     && curl -fsS "http://127.0.0.1:$ACTION_PORT/health" >/dev/null 2>&1 \
     && curl -fsS -o /dev/null "http://$HOST:$CONSOLE_PORT/login" 2>/dev/null; then
    cat <<MSG
[run] Le bot répond.
      Fenêtre de discussion (démo ENT) : élèves  http://$HOST:$RASA_PORT/webhooks/chat/widget/demo-ent.html
                                         familles http://$HOST:$RASA_PORT/webhooks/chat/widget/demo-ent-parents.html
      Console des conseillers :          http://$HOST:$CONSOLE_PORT/  (compte initial : voir ci-dessus ou var/console-admin-password.txt)
      API REST : POST http://$HOST:$RASA_PORT/webhooks/rest/webhook
      essai :    curl -s http://$HOST:$RASA_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
                   -d '{"sender":"essai","message":"combien de voeux sur parcoursup ?","metadata":{"audience":"eleve"}}'
      Ctrl-C pour arrêter.
MSG
    break
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "[run] un serveur s'est arrêté au démarrage : voir var/log/" >&2; exit 1; }
  done
  sleep 1
done

# Stay in the foreground until one server stops.
wait -n "${pids[@]}"
echo "[run] un serveur s'est arrêté : voir var/log/" >&2
exit 1
