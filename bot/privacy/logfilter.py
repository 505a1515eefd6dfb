"""A logging filter that redacts personal data from every log record before it is written.

Rasa logs whole messages at DEBUG level ("Received user message 'call me at ...'"), and
our own modules may log a citizen's text by mistake; the filter makes both safe.
``install()`` attaches it to every handler of the root logger (and to handlers added
later, through ``logging.setLogRecordFactory``), so it covers libraries too.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.privacy.redact import redact

# Slots a form fills with where the citizen lives and how to reach them. Rasa and the action server
# log slot values at DEBUG (`SlotSet(key: address, value: ...)`, "\taddress: ..." in the slot dump,
# `{'name': 'address', 'value': ...}` events), and a form's address need not look like one
# ("the blue house past the mill"): the value is dropped whatever it is.
PERSONAL_SLOTS = {
    "address": "[address]",
    "location": "[address]",
    "contact": "[contact]",
    "ticket_contact": "[contact]",
}
_NAMES = "|".join(PERSONAL_SLOTS)
_Q = r"(?:\\?[\"'])"  # a quote, or an escaped one inside JSON
SLOT_PATTERNS = (
    re.compile(rf"(SlotSet\(key: ({_NAMES}), value: )([^)\n]*)"),
    re.compile(rf"((?:\t|\\t)({_NAMES}): )((?:(?!\\[nt])[^\n\t\"])*)"),
    re.compile(rf"({_Q}({_NAMES}){_Q}:\s*{_Q})((?:(?!{_Q}).)*)"),
    re.compile(rf"({_Q}name{_Q}:\s*{_Q}({_NAMES}){_Q},\s*{_Q}value{_Q}:\s*{_Q})((?:(?!{_Q}).)*)"),
    re.compile(rf"(\b({_NAMES})=)(\S+)"),
)


def redact_slots(text: str) -> str:
    """The values of personal slots in Rasa's and rasa_sdk's log formats, replaced by their kind."""
    for pattern in SLOT_PATTERNS:
        text = pattern.sub(
            lambda m: m.group(1) + PERSONAL_SLOTS[m.group(2)] if m.group(3) else m.group(0), text
        )
    return text


def redact_log(text: str) -> str:
    """What a log line keeps: personal slot values dropped, then personal data redacted."""
    return redact(redact_slots(text))


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
    record.msg = redact_log(message)
    record.args = None
    if record.exc_text:
        record.exc_text = redact_log(record.exc_text)
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
