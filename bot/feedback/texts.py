"""The staff-edited files of the rating: its wording and which lookup answers are rated.

`data/feedback/messages.yml` (button titles, screen-reader names, the SMS prompt) is read through
`bot.datafile`, so an edit shows at the next answer; `data/feedback/rated.yml` (lookup response ->
the lookup it counts as) is read with the responses, at every model load (`bot.nlg`).

The wording in other languages is the messages file's `translations:` block (`bot.language.texts`):
`load_texts(language="es")` gives the buttons, their screen-reader names and the SMS prompt a Spanish
reader gets, English where a text is not translated. rated.yml names responses, not words: it has
nothing to translate (the responses themselves have their variations per language).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot.content.agency import SOURCE_LANGUAGE
from bot.datafile import load_yaml_file
from bot.feedback.answers import VALUES
from bot.language.texts import localized, translated_languages

MESSAGES_FILE = Path("data/feedback/messages.yml")
RATED_FILE = Path("data/feedback/rated.yml")


class FeedbackFileError(ValueError):
    """A feedback file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class FeedbackTexts:
    """`buttons` and `accessible` by value ("up", "down"); `sms_prompt` ends a rated SMS answer."""

    buttons: dict[str, str]
    accessible: dict[str, str]
    sms_prompt: str
    language: str = SOURCE_LANGUAGE
    translations: Mapping[str, FeedbackTexts] = field(default_factory=dict)

    def in_language(self, code: str) -> FeedbackTexts:
        """The wording for a reader of `code` (this one, in English, when the file has none in it)."""
        return self.translations.get(code, self)


def _by_value(raw: Mapping[str, Any], key: str, path: Path) -> dict[str, str]:
    texts = raw.get(key)
    if not isinstance(texts, dict) or not all(str(texts.get(v) or "").strip() for v in VALUES):
        raise FeedbackFileError(f"{path}: {key} needs a text for each of {', '.join(VALUES)}")
    return {value: str(texts[value]).strip() for value in VALUES}


def _wording(raw: Mapping[str, Any], path: Path, language: str) -> FeedbackTexts:
    prompt = raw.get("sms_prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise FeedbackFileError(f"{path}: sms_prompt must be a text")
    buttons, accessible = _by_value(raw, "buttons", path), _by_value(raw, "accessible", path)
    return FeedbackTexts(buttons, accessible, prompt.strip(), language)


def parse_texts(raw: Any, path: Path) -> FeedbackTexts:
    if not isinstance(raw, dict):
        raise FeedbackFileError(f"{path}: expected a mapping with buttons, accessible and sms_prompt")
    english = _wording(localized(raw, SOURCE_LANGUAGE), path, SOURCE_LANGUAGE)
    others = {code: _wording(localized(raw, code), path, code) for code in translated_languages(raw)}
    return replace(english, translations={c: t for c, t in others.items() if c != SOURCE_LANGUAGE})


def load_texts(path: Path = MESSAGES_FILE, language: str = SOURCE_LANGUAGE) -> FeedbackTexts:
    """The rating's wording in `language`, re-read only when the file changed."""
    return load_yaml_file(path, parse_texts, FeedbackFileError).in_language(language)


def parse_rated(raw: Any, path: Path) -> dict[str, str]:
    """Response name -> lookup name, from `lookups: {<lookup>: [<response>, ...]}`."""
    lookups = raw.get("lookups") if isinstance(raw, dict) else None
    if not isinstance(lookups, dict):
        raise FeedbackFileError(f"{path}: expected lookups: with a list of responses under each lookup")
    rated: dict[str, str] = {}
    for lookup, responses in lookups.items():
        if not isinstance(responses, list) or not all(isinstance(r, str) for r in responses):
            raise FeedbackFileError(f"{path}: lookups.{lookup} must be a list of response names")
        for response in responses:
            if response in rated:
                raise FeedbackFileError(f"{path}: {response} is listed under {rated[response]} and {lookup}")
            rated[response] = str(lookup)
    return rated


def load_rated(path: Path = RATED_FILE) -> dict[str, str]:
    """The rated lookup responses; a file that cannot be read or used raises FeedbackFileError."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FeedbackFileError(f"{path}: cannot be read ({exc})") from None
    return parse_rated(raw, path)
