"""Rasa's conversation events on the Redis stream `civic:events`, for the handoff relay and the inbox."""

STREAM = "civic:events"
