#!/bin/sh
# `rasa` (default): the Rasa server; `models`: the model server; `actions`: the action server;
# `handoff`: the agent console; `demo`: the demo agency API; `broadcaster`: broadcasts and alerts to
# subscribers; else run the command.
#
# No secret is ever on a command line here (`ps` would show it): the servers read RASA_TOKEN,
# ACTION_SERVER_TOKEN, MODEL_SERVER_TOKEN, REST_CHANNEL_TOKEN and the rest from their environment,
# and refuse to start without the ones they need. They listen on BIND_HOST (the image sets
# 0.0.0.0). Log redaction: the image puts bot/privacy/site on PYTHONPATH.
set -e
case "$1" in
  rasa)
    # Each replica reports itself to the model server under a name of its own: the pod's name in
    # Kubernetes (set from the downward API), else the container's host name.
    RASA_REPLICA_NAME="${RASA_REPLICA_NAME:-$(uname -n)}"
    export RASA_REPLICA_NAME
    : "${MODEL_SERVER_URL:?MODEL_SERVER_URL must be set: Rasa loads its model from the model server}"
    # credentials.yml plus a section per messaging channel whose variables are set.
    python -m bot credentials var/credentials.yml
    # With `models:` in endpoints.yml Rasa loads its model from MODEL_SERVER_URL (and checks for a
    # new one every 10 s), never from --model: every replica runs the model the server publishes.
    exec python -m bot.serve.rasa --port 5005 --model models \
      --endpoints endpoints.yml --credentials var/credentials.yml ;;
  models)
    exec python -m bot.serve.models --port 5057 ;;
  actions)
    exec python -m bot.serve.actions --actions actions --port 5055 ;;
  handoff)
    : "${RASA_TOKEN:?RASA_TOKEN must be set: the console calls Rasa's HTTP API with it}"
    # What staff publish in the content studio (and its history) lives on the console's volume
    # (var/), seeded once from the image's content; the Rasa files are generated from it.
    if [ ! -L data/content ]; then
      [ -d var/content ] || cp -a data/content var/content
      rm -rf data/content && ln -s ../var/content data/content
    fi
    python -m bot content generate >/dev/null
    exec python -m bot.console --port 8080 ;;
  demo)
    exec python -m bot.demo_agency --port 8000 ;;
  broadcaster)
    # Sends with the same connectors as Rasa: their credentials come from the same variables.
    exec python -m bot.broadcasts --port 8095 ;;
  *)
    exec "$@" ;;
esac
