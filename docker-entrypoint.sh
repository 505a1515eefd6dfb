#!/bin/sh
# `rasa` (default): the Rasa server; `actions`: the action server; `handoff`: the agent
# console; else run the command.
set -e
# Rasa and the action server redact personal data from their logs through the sitecustomize
# hook in bot/privacy/site (the console installs the same filter itself).
export PYTHONPATH="/app/bot/privacy/site${PYTHONPATH:+:$PYTHONPATH}"
case "$1" in
  rasa)
    : "${RASA_TOKEN:?RASA_TOKEN must be set: the HTTP API never runs without auth}"
    # credentials.yml plus a section per messaging channel whose variables are set.
    python -m bot credentials var/credentials.yml
    exec rasa run --enable-api --auth-token "$RASA_TOKEN" --port 5005 --model models \
      --endpoints endpoints.yml --credentials var/credentials.yml ;;
  actions)
    exec python -m rasa_sdk --actions actions --port 5055 ;;
  handoff)
    : "${RASA_TOKEN:?RASA_TOKEN must be set: the console calls Rasa's HTTP API with it}"
    exec python -m bot.console --host 0.0.0.0 --port 8080 ;;
  *)
    exec "$@" ;;
esac
