"""A logging filter that redacts personal data from every log record before it is written.

Rasa logs whole messages at DEBUG level ("Received user message 'call me at ...'"), and
our own modules may log a citizen's text by mistake; the filter makes both safe.
``install()`` attaches it to every handler of the root logger (and to handlers added
later, through ``logging.setLogRecordFactory``), so it covers libraries too.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.privacy.redact import redact


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactingFilter(logging.Filter):
    """Replaces the record's message with its redacted text; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> None:
    """Format once, redact, and freeze the result so handlers print the redacted text."""
    if getattr(record, "_civic_redacted", False):
        return
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = str(record.msg)
    record.msg = redact(message)
    record.args = None
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    record._civic_redacted = True


_installed = False


def install() -> None:
    """Redact every record created in this process, whichever logger or handler handles it.

    A record factory rather than a handler filter: Rasa and sanic configure their own
    handlers after start-up, and a factory covers those too.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
