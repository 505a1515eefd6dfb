"""No reply tells an SMS citizen to type a word that would stop their alerts.

On SMS every carrier stop word (STOP, CANCEL, QUIT...) is answered before the assistant, always
(bot/subscriptions/keywords.py): a prompt saying 'say "cancel"' would unsubscribe the citizen who
follows it and leave them where they were. The words that leave a form or the line instead
(`stop_outside_forms`, "cancelar") may be quoted. Checked on the shipped responses, in every
language, on the variations an SMS conversation gets.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rasa.shared.core.domain import Domain

from bot.content.agency import SOURCE_LANGUAGE, load_agency
from bot.language.conversation import variation_language
from bot.subscriptions.keywords import SMS, keyword_of
from bot.subscriptions.texts import STOP

ROOT = Path(__file__).resolve().parents[3]
DOMAIN_FILES = [ROOT / "domain.yml", *sorted((ROOT / "data" / "responses").glob("*.yml"))]
QUOTED = re.compile(r'["“«]([^"”»]{1,40})["”»]')


def sms_variations(variations: list[dict[str, Any]], language: str) -> list[dict[str, Any]]:
    """What an SMS conversation in `language` is said: its SMS variations, else its plain ones."""
    own = [v for v in variations if (variation_language(v) or SOURCE_LANGUAGE) == language]
    sms = [v for v in own if v.get("channel") == SMS]
    return sms or [v for v in own if not v.get("channel")]


def stop_words_quoted(text: str) -> list[str]:
    said = [keyword_of(quoted) for quoted in QUOTED.findall(text)]
    return [k.word for k in said if k is not None and k.action == STOP and not k.outside_forms]


def test_no_sms_reply_asks_for_a_word_that_stops_the_alerts() -> None:
    responses = Domain.load([str(f) for f in DOMAIN_FILES]).responses
    found = {
        (name, language, word)
        for language in load_agency().languages
        for name, variations in responses.items()
        for variation in sms_variations(variations, language)
        for word in stop_words_quoted(str(variation.get("text") or ""))
    }
    assert found == set()


def test_the_check_sees_a_quoted_stop_word() -> None:
    assert stop_words_quoted('Say "cancel" to leave the line, or "never mind".') == ["CANCEL"]
    assert stop_words_quoted('Diga "cancelar" para salir.') == []
    assert stop_words_quoted('say "stop alerts" to unsubscribe') == []
