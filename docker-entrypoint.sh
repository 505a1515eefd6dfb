#!/bin/sh
# `rasa` (default): the Rasa server; `actions`: the action server; `handoff`: the agent
# console; else run the command.
#
# No secret is ever on a command line here (`ps` would show it): the servers read RASA_TOKEN,
# ACTION_SERVER_TOKEN, REST_CHANNEL_TOKEN and the rest from their environment, and refuse to
# start without the ones they need. They listen on BIND_HOST (the image sets 0.0.0.0). Log
# redaction: the image puts bot/privacy/site on PYTHONPATH.
set -e
case "$1" in
  rasa)
    # credentials.yml plus a section per messaging channel whose variables are set.
    python -m bot credentials var/credentials.yml
    exec python -m bot.serve.rasa --port 5005 --model models \
      --endpoints endpoints.yml --credentials var/credentials.yml ;;
  actions)
    exec python -m bot.serve.actions --actions actions --port 5055 ;;
  handoff)
    : "${RASA_TOKEN:?RASA_TOKEN must be set: the console calls Rasa's HTTP API with it}"
    exec python -m bot.console --port 8080 ;;
  *)
    exec "$@" ;;
esac
