"""Log records never carry a citizen's personal data, whichever logger writes them."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from bot.privacy.logfilter import RedactingFilter, redact_log


def test_filter_redacts_a_record_with_arguments(caplog) -> None:
    logger = logging.getLogger("civic.test.filter")
    handler_filter = RedactingFilter()
    caplog.handler.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.INFO, logger="civic.test.filter"):
            logger.info("Received user message '%s' from %s", "call me at 555-867-5309", "jane@example.com")
    finally:
        caplog.handler.removeFilter(handler_filter)
    assert caplog.messages == ["Received user message 'call me at [phone]' from [email]"]


def test_install_covers_loggers_configured_later() -> None:
    """A fresh interpreter, as Rasa's processes are: install first, then a library sets up logging."""
    code = (
        "import logging, sys\n"
        "from bot.privacy.logfilter import install\n"
        "install()\n"
        "logging.basicConfig(stream=sys.stdout, level=logging.DEBUG, format='%(message)s')\n"
        "logging.getLogger('rasa.core').debug('user said %r', 'I live at 12 Elm St, SSN 123-45-6789')\n"
        "logging.getLogger('x').info('request SR-512077 at 10:30 costs $45')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "user said 'I live at [address], SSN [id number]'",
        "request SR-512077 at 10:30 costs $45",
    ]


def test_the_stack_hook_redacts_a_process_started_with_it() -> None:
    """What bot/stack.py does for Rasa and the action server: PYTHONPATH=bot/privacy/site."""
    import os
    from pathlib import Path

    import bot.privacy

    site = Path(bot.privacy.__file__).parent / "site"
    code = (
        "import logging, sys\n"
        "logging.basicConfig(stream=sys.stdout, level=logging.INFO, format='%(message)s')\n"
        "logging.getLogger('rasa_sdk').info('slot ticket_contact=%s', 'maria@example.org')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "slot ticket_contact=[contact]"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "SlotSet(key: address, value: the blue house past the mill)",
            "SlotSet(key: address, value: [address])",
        ),
        (
            "slots:\n\taddress: lot 7 harbor trailer park\n\tday: None",
            "slots:\n\taddress: [address]\n\tday: None",
        ),
        (
            '{"slot_values": "\\taddress: lot 7 harbor trailer park\\n\\tday: None"}',
            '{"slot_values": "\\taddress: [address]\\n\\tday: None"}',
        ),
        (
            "events [{'event': 'slot', 'name': 'location', 'value': 'green duplex behind the church'}]",
            "events [{'event': 'slot', 'name': 'location', 'value': '[address]'}]",
        ),
        ("{'address': 'green duplex', 'day': '2026-12-05'}", "{'address': '[address]', 'day': '2026-12-05'}"),
        ("SlotSet(key: contact, value: call my mother)", "SlotSet(key: contact, value: [contact])"),
        ("SlotSet(key: day, value: 2026-12-05)", "SlotSet(key: day, value: 2026-12-05)"),
    ],
)
def test_personal_slot_values_are_dropped_whatever_they_look_like(line: str, expected: str) -> None:
    assert redact_log(line) == expected
