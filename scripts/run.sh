#!/usr/bin/env bash
# Starts the action server, the Rasa server (REST, socket.io, the chat window's API) and the
# counsellors' console in the foreground, waits until they answer, says where to chat, and stops
# them all on Ctrl-C / SIGTERM. The Rasa server has one worker per core when Redis answers (its lock
# store), else one process: scripts/workers.py chooses and says which.
set -euo pipefail
cd "$(dirname "$0")/.."
# Everything the servers write (database, tracker store, logs, spool, keys) is readable by this user only.
umask 077

RASA_PORT=${RASA_PORT:-5005}
ACTION_PORT=${ACTION_PORT:-5055}
CONSOLE_PORT=${CONSOLE_PORT:-5080}
# The bot (chat window, REST) and the console listen on loopback unless told otherwise, each on its own:
# the console on another address needs HTTPS (console.secure_cookies), see README.
BOT_HOST=${BOT_HOST:-${HOST:-127.0.0.1}}
CONSOLE_HOST=${CONSOLE_HOST:-127.0.0.1}
MODEL=${MODEL:-models/orientation.tar.gz}
VENV=${VENV:-.venv}
mkdir -p var/log
chmod -R go= var || true  # files made before (make kb's database) lose the others' access too

export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://127.0.0.1:$ACTION_PORT/webhook}
export TRACKER_DB=${TRACKER_DB:-$PWD/var/tracker.db}
# Rasa sends it with every action call (endpoints.yml); the action server refuses calls without it.
if [[ -z "${ORIENTBOT_ACTION_SECRET:-}" ]]; then
  [[ -s var/action-secret ]] || "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))' > var/action-secret
  ORIENTBOT_ACTION_SECRET=$(< var/action-secret)
fi
export ORIENTBOT_ACTION_SECRET
# Sanic reads SANIC_* variables: the bot refuses (413) requests above 1 MB (its default: 100 MB).
export SANIC_REQUEST_MAX_SIZE=${SANIC_REQUEST_MAX_SIZE:-1000000}

# One Rasa worker per core when the lock store (Redis, serve.lock_store_url) answers, with the endpoints that
# make it safe; else one process on endpoints.yml (in-memory locks). It says which on stderr, in French.
plan=$("$VENV/bin/python" scripts/workers.py --tracker-db "$TRACKER_DB" --out var/endpoints.run.yml)
read -r rasa_workers endpoints <<< "$plan"

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

"$VENV/bin/python" -m bot.action_server --actions bot.actions --host 127.0.0.1 --port "$ACTION_PORT" \
  > >(tee -a var/log/actions.log) 2>&1 &
pids+=($!)
SANIC_WORKERS="$rasa_workers" "$VENV/bin/rasa" run --model "$MODEL" --endpoints "$endpoints" --credentials credentials.yml \
  --interface "$BOT_HOST" --port "$RASA_PORT" --cors "${cors_origins[@]}" \
  > >(tee -a var/log/rasa.log) 2>&1 &
pids+=($!)
"$VENV/bin/python" -m console serve --host "$CONSOLE_HOST" --port "$CONSOLE_PORT" \
  > >(tee -a var/log/console.log) 2>&1 &
pids+=($!)

echo "[run] démarrage (jusqu'à une minute sur 2 cœurs)…"
for _ in $(seq 1 180); do
  if curl -fsS "http://$BOT_HOST:$RASA_PORT/webhooks/rest/" >/dev/null 2>&1 \
     && curl -fsS "http://127.0.0.1:$ACTION_PORT/health" >/dev/null 2>&1 \
     && curl -fsS -o /dev/null "http://$CONSOLE_HOST:$CONSOLE_PORT/login" 2>/dev/null; then
    cat <<MSG
[run] Le bot répond.
      Fenêtre de discussion (démo ENT) : élèves  http://$BOT_HOST:$RASA_PORT/webhooks/chat/widget/demo-ent.html
                                         familles http://$BOT_HOST:$RASA_PORT/webhooks/chat/widget/demo-ent-parents.html
      Console des conseillers :          http://$CONSOLE_HOST:$CONSOLE_PORT/  (premier compte : « admin », mot de passe dans ${ORIENTBOT_CONSOLE_ADMIN_PASSWORD_FILE:-var/console-admin-password.txt})
      API REST : POST http://$BOT_HOST:$RASA_PORT/webhooks/rest/webhook
      essai :    curl -s http://$BOT_HOST:$RASA_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
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
