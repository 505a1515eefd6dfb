"""What the messaging connectors say on their own (not Rasa's answers): data/channels/messages.yml.

The wording is staff's to change, so it lives in a data file with the agency's facts as
`{agency.<key>}` placeholders (data/agency.yml), read when a connector is built (Rasa's start).
The file is shared with the web chat and REST channels (`bot/channels/notices.py`), so a message
that is too long gets the same words everywhere. A missing file or text stops the start with
the file named, rather than a citizen getting a blank message. The file's `translations:` block
has the texts in the agency's other languages (`bot/language/texts.py`): `load_texts(language=...)`
gives one language's (English where a text is not translated), `load_texts_by_language` all of them,
`load_texts_with_translations` the English ones carrying the others (what a connector holds: it
speaks each conversation's language, `ChannelTexts.in_language`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from bot.channels.text import numbered_options
from bot.content.agency import SOURCE_LANGUAGE, UnknownFactError, load_agency
from bot.content.model import ContentError
from bot.language.texts import localized, translated_languages

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
    # the same texts in the file's other languages, by code (`load_texts_with_translations`)
    translations: Mapping[str, ChannelTexts] = field(default_factory=dict, compare=False, repr=False)

    def in_language(self, language: str | None) -> ChannelTexts:
        """The texts a conversation in `language` reads: its translation, else these (English)."""
        return self.translations.get(language or "", self)

    def too_long_for(self, limit: int) -> str:
        return self.too_long.replace("{limit}", f"{limit:,}")


def load_texts(path: Path = TEXTS_FILE, language: str = SOURCE_LANGUAGE) -> ChannelTexts:
    """The texts of `path` in `language` with the agency's facts filled in; TextsError saying what to fix."""
    raw = _read(path)
    return _texts(localized(raw, language), path, language)


def sms_with_options(
    text: str, titles: Sequence[str], language: str = SOURCE_LANGUAGE, path: Path = TEXTS_FILE
) -> str:
    """`text` as an SMS carries buttons titled `titles`: numbered lines and the options prompt in
    `language`, as bot/channels/twilio.py sends it; for measuring and previewing a reply before it is
    sent. With the texts file broken, the lines without the prompt (`content check` reports the file,
    and the connector would not start)."""
    if not titles:
        return text
    try:
        prompt = load_texts(path, language).options_prompt
    except TextsError:
        prompt = ""
    return numbered_options(text, titles, prompt)


def load_texts_with_translations(path: Path = TEXTS_FILE) -> ChannelTexts:
    """The English texts of `path`, carrying every translated language's (`ChannelTexts.in_language`)."""
    by_language = load_texts_by_language(path)
    english = by_language.pop(SOURCE_LANGUAGE)
    return replace(english, translations=by_language)


def load_texts_by_language(path: Path = TEXTS_FILE) -> dict[str, ChannelTexts]:
    """The texts of `path` in English and in each language of its translations, by language code."""
    raw = _read(path)
    languages = [SOURCE_LANGUAGE, *(code for code in translated_languages(raw) if code != SOURCE_LANGUAGE)]
    return {code: _texts(localized(raw, code), path, code) for code in languages}


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TextsError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise TextsError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise TextsError(f'{path} must be `name: "text"` lines')
    return raw


def _texts(raw: dict[str, Any], path: Path, language: str) -> ChannelTexts:
    """One language's texts (`raw` already localized), the agency's facts filled in."""
    where = str(path) if language == SOURCE_LANGUAGE else f"{path} (translations: {language})"
    try:
        agency = load_agency()
        values: dict[str, Any] = {}
        for item in fields(ChannelTexts):
            if item.name == "translations":
                continue
            text = raw.get(item.name)
            if not isinstance(text, str) or not text.strip():
                raise TextsError(f"{where} has no text {item.name!r}")
            values[item.name] = agency.expand(text.strip())
    except (ContentError, UnknownFactError) as exc:
        raise TextsError(f"{where}: {exc}") from None
    return ChannelTexts(**values)
