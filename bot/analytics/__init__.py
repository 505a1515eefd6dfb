"""Measurement: daily aggregates of the event stream, the dashboard and the message tests' outcomes.

`aggregator` turns Rasa's events (the `civic:events` stream) into per-day counts exactly once;
`summary` is the one read API (the dashboard, the JSON API, the CSV export and the experiments page
use it); `keys` names every Redis key. Aggregates hold counts only, never a conversation id or text
(docs/analytics.md).
"""
