"""Entry points for the servers we do not write ourselves: Rasa and the rasa_sdk action server.

`rasa run` and `python -m rasa_sdk` take their secrets on the command line (where every local
user can read them in the process list) and listen on every interface. `python -m bot.serve.rasa`
and `python -m bot.serve.actions` read the secrets from the environment, hand them over
in-process, and listen on BIND_HOST (`bot.serve.exposure`).
"""
