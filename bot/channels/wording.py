"""What the messaging connectors say on their own (not Rasa's answers): data/channels/messages.yml.

The wording is staff's to change, so it lives in a data file with the agency's facts as
`{agency.<key>}` placeholders (data/agency.yml), read when a connector is built (Rasa's start).
The file is shared with the web chat and REST channels (`bot/channels/notices.py`), so a message
that is too long gets the same words everywhere. A missing file or text stops the start with
the file named, rather than a citizen getting a blank message.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from bot.content.agency import UnknownFactError, load_agency
from bot.content.model import ContentError

TEXTS_FILE = Path(__file__).resolve().parents[2] / "data" / "channels" / "messages.yml"


class TextsError(ValueError):
    """The texts file is missing, not YAML, or lacks a text."""


@dataclass(frozen=True)
class ChannelTexts:
    unsupported: str  # media we cannot read
    too_long: str  # a message over the limit; `{limit}` is the number of characters
    options_prompt: str  # SMS: the line after numbered options
    options_label: str  # WhatsApp: the button that opens a list
    privacy_notice: str  # once, with the first reply of a conversation
    feedback_question: str  # WhatsApp: the message carrying a rated answer's two feedback buttons
    link_gone: str  # the page of an answer's tracked link whose entry or message test is gone

    def too_long_for(self, limit: int) -> str:
        return self.too_long.replace("{limit}", f"{limit:,}")


def load_texts(path: Path = TEXTS_FILE) -> ChannelTexts:
    """The texts of `path` with the agency's facts filled in; TextsError saying what to fix."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TextsError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise TextsError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TextsError(f'{path} must be `name: "text"` lines')
    try:
        agency = load_agency()
        values = {}
        for item in fields(ChannelTexts):
            text = raw.get(item.name)
            if not isinstance(text, str) or not text.strip():
                raise TextsError(f"{path} has no text {item.name!r}")
            values[item.name] = agency.expand(text.strip())
    except (ContentError, UnknownFactError) as exc:
        raise TextsError(f"{path}: {exc}") from None
    return ChannelTexts(**values)
