"""The wording of relayed alerts, of the pinned notice's lead and of replies to a broadcast
(data/broadcasts/alerts.yml), so staff reword them without touching code.

Read by the alerts poller (`bot.broadcasts.poller`), Rasa's response generator (`bot.nlg`) and the
actions (`actions.alerts`, `actions.broadcast_reply`); re-read when the file changes.

In other languages: the file's `translations:` block (`bot.language.texts`), so `load_texts(language=
"es")` words a relay, the notice's lead and the replies for a Spanish reader, English where a key is
not translated. A reader's reply questions are recognised in their language and in English. An alert
the feed carries only in another language is shown in that one with the `only_in` note (`alert_text`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError

from bot.broadcasts.notice import Notice
from bot.clients.alerts import Alert, AlertText
from bot.content.agency import SOURCE_LANGUAGE
from bot.datafile import load_yaml_file
from bot.language.texts import localized, translated_languages

TEXTS_FILE = Path("data/broadcasts/alerts.yml")
QUESTION_KINDS = ("what_to_do", "how_long", "where")  # checked in this order ("should i" before "last")
_PLACEHOLDER = re.compile(r"{(\w+)}")
_PUNCTUATION = re.compile(r"[^\w\s]")


class TextsError(ValueError):
    """The file cannot be used; the message names it and what is wrong."""


@dataclass(frozen=True)
class BroadcastTexts:
    raw: dict[str, Any]
    path: Path
    language: str = SOURCE_LANGUAGE
    translations: Mapping[str, BroadcastTexts] = field(default_factory=dict)

    def in_language(self, code: str) -> BroadcastTexts:
        """The texts a reader of `code` gets (these, in English, when the file has none in it)."""
        return self.translations.get(code, self)

    def text(self, *keys: str) -> str:
        value: Any = self.raw
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, str):
            raise TextsError(f"{self.path}: {'.'.join(keys)} must be a text")
        return value

    def prefix(self, message_type: str) -> str:
        prefixes = (self.raw.get("relay") or {}).get("prefix") or {}
        return str(prefixes.get(message_type, prefixes.get("Alert", "")))

    def reply(self, key: str, **values: Any) -> str:
        return fill(self.text("replies", key), values)

    def question_kind(self, message: str) -> str | None:
        """Which reply question `message` asks ("where", "how_long", "what_to_do"), or None."""
        folded = _fold(message)
        words = (self.raw.get("replies") or {}).get("questions") or {}
        for kind in QUESTION_KINDS:
            if any(_fold(str(w)) in folded for w in words.get(kind) or [] if str(w).strip()):
                return kind
        return None


def _fold(text: str) -> str:
    """Lower case, no accents ("qué" is "que": citizens often type none), punctuation as spaces,
    padded: whole-word matching with `in`."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return f" {' '.join(_PUNCTUATION.sub(' ', bare).split())} "


def fill(template: str, values: dict[str, Any]) -> str:
    """`template` with its {placeholders} filled; a line whose placeholder is empty is left out."""
    kept = []
    for line in template.splitlines():
        names = _PLACEHOLDER.findall(line)
        if any(not str(values.get(n) or "").strip() for n in names if n != "prefix"):
            continue
        kept.append(_PLACEHOLDER.sub(lambda m: str(values.get(m.group(1)) or ""), line))
    return "\n".join(kept).strip()


def _checked(raw: dict[str, Any], path: Path, language: str) -> BroadcastTexts:
    texts = BroadcastTexts(raw, path, language)
    for keys in (("relay", "title"), ("relay", "text"), ("relay", "sms"), ("notice",)):
        texts.text(*keys)
    return texts


def _with_english_questions(own: dict[str, Any], english: Mapping[str, Any]) -> dict[str, Any]:
    """`own` whose reply questions also take the English phrases (a citizen may ask in either)."""
    replies = dict(own.get("replies") or {})
    mine, theirs = replies.get("questions") or {}, (english.get("replies") or {}).get("questions") or {}
    if not isinstance(mine, Mapping) or not isinstance(theirs, Mapping):
        return own
    merged = {
        kind: list(dict.fromkeys([*(mine.get(kind) or []), *(theirs.get(kind) or [])])) for kind in theirs
    }
    return {**own, "replies": {**replies, "questions": {**mine, **merged}}}


def parse_texts(raw: Any, path: Path) -> BroadcastTexts:
    if not isinstance(raw, dict):
        raise TextsError(f"{path}: expected a mapping with relay, notice and replies")
    english = localized(raw, SOURCE_LANGUAGE)
    translations = {
        code: _checked(_with_english_questions(localized(raw, code), english), path, code)
        for code in translated_languages(raw)
        if code != SOURCE_LANGUAGE
    }
    return replace(_checked(english, path, SOURCE_LANGUAGE), translations=translations)


def load_texts(path: Path = TEXTS_FILE, language: str = SOURCE_LANGUAGE) -> BroadcastTexts:
    """The texts in `language`, re-read when the file changes (staff edits apply without a restart)."""
    return load_yaml_file(path, parse_texts, TextsError).in_language(language)


def notice_lead(notice: Notice, language: str = SOURCE_LANGUAGE) -> str:
    """The pinned notice as it leads a greeting or the alerts answer (`notice` in the texts file), with
    the lead in the reader's language (the notice itself is as staff wrote it)."""
    try:
        lead = load_texts(language=language).text("notice")
        return fill(lead, {"notice": notice.as_text()}) or notice.as_text()
    except TextsError:
        return notice.as_text()


def language_name(code: str, reader: str) -> str:
    """The name of language `code` as a reader of `reader` writes it ("inglés" for es), from CLDR."""
    try:
        return Locale.parse(code).get_display_name(Locale.parse(reader)) or code
    except (ValueError, UnknownLocaleError):
        return code


def alert_text(alert: Alert, language: str, texts: BroadcastTexts | None = None) -> tuple[AlertText, str]:
    """The alert's text for a reader of `language`, and the one-line note to add ("" when the feed
    carries it in that language): "Esta alerta solo está disponible en inglés." A texts file that
    cannot be read costs the note, never the alert."""
    text, in_it = alert.in_language(language)
    if in_it:
        return text, ""
    try:
        own = texts.in_language(language) if texts is not None else load_texts(language=language)
        note = fill(own.text("only_in"), {"language": language_name(alert.language, language)})
    except TextsError:
        note = ""
    return text, note
