"""Loaded by Python at start-up when this directory is on PYTHONPATH (``bot/stack.py`` puts it there
for Rasa and the action server): every log record those processes write is redacted.

Kept import-light and fail-safe: a broken hook must never stop Rasa from starting.
"""

try:
    from bot.privacy.logfilter import install

    install()
except Exception:  # noqa: S110 (start-up must not fail because of the hook)
    pass
