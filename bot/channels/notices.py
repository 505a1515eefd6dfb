"""What the web chat and REST channels say themselves: data/channels/messages.yml.

A message that is too long or comes too fast never reaches the assistant, so the channel answers
it with one of these texts. They are citizens' words, so they live in the data file (shared with
the messaging connectors' texts, `bot/channels/wording.py`), not here. The file's `translations:`
block has them in the agency's other languages (`bot/language/texts.py`); `in_language(code)`
gives the notices a conversation in `code` reads (English for a language the file lacks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot.channels.base import ChannelConfigError
from bot.content.agency import SOURCE_LANGUAGE
from bot.language.texts import localized, translated_languages

MESSAGES_FILE = Path(__file__).resolve().parents[2] / "data" / "channels" / "messages.yml"


@dataclass(frozen=True)
class ChannelNotices:
    """The channel's own replies: a message over the length limit, messages too fast, a turn that
    failed because the conversation store (Redis) could not be reached. These are the English ones;
    `translations` holds the same notices per other language of the file."""

    too_long_text: str
    rate_limited_forms: dict[str, str]
    store_unavailable: str
    translations: Mapping[str, ChannelNotices] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, path: Path = MESSAGES_FILE) -> ChannelNotices:
        raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        english = _notices(localized(raw, SOURCE_LANGUAGE), path, SOURCE_LANGUAGE)
        others = {code: _notices(localized(raw, code), path, code) for code in translated_languages(raw)}
        return replace(english, translations=others)

    def in_language(self, language: str | None) -> ChannelNotices:
        """The notices in `language` (a code of the file's translations), else these (English)."""
        return self.translations.get(language or "", self)

    def too_long(self, limit: int) -> str:
        return self.too_long_text.replace("{limit}", f"{limit:,}")

    def rate_limited(self, seconds: int) -> str:
        form = (
            self.rate_limited_forms.get("one" if seconds == 1 else "other")
            or self.rate_limited_forms["other"]
        )
        return form.replace("{n}", f"{seconds:,}")


def _notices(raw: Mapping[str, Any], path: Path, language: str) -> ChannelNotices:
    """The notices of one language (`raw` already localized); ChannelConfigError naming what to fix."""
    forms = raw.get("rate_limited")
    texts_given = all(isinstance(raw.get(key), str) for key in ("too_long", "store_unavailable"))
    if not texts_given or not isinstance(forms, dict) or "other" not in forms:
        where = "" if language == SOURCE_LANGUAGE else f" (translations: {language})"
        raise ChannelConfigError(
            f"{path}{where} needs `too_long` and `store_unavailable` (texts) and `rate_limited`"
            " (with an `other` form)"
        )
    return ChannelNotices(
        str(raw["too_long"]), {str(k): str(v) for k, v in forms.items()}, str(raw["store_unavailable"])
    )
