"""The one payload a client may send without a button offering it: a switch of language.

The web chat sends `/switch_language{"language":"es"}` at the start of a conversation in a language
other than English and when the citizen picks another language (docs/channels.md, "Web chat").
`language_switch` tells a channel whether a message is exactly that, for a language the agency
offers, and rebuilds it from the code, so nothing else of the client's text reaches Rasa as an intent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

SWITCH_INTENT = "switch_language"  # bot/nlp/language_detector.py, domain.yml
_SWITCH = re.compile(rf"/{SWITCH_INTENT}(\{{.{{1,40}}\}})")


def switch_payload(language: str) -> str:
    """The payload the widget sends to switch the conversation to `language`."""
    return f"/{SWITCH_INTENT}" + json.dumps({"language": language}, separators=(",", ":"))


def language_switch(text: str, languages: Iterable[str]) -> str | None:
    """`text` as the payload Rasa should get when it is the widget's switch to one of `languages`
    (rebuilt from the code, so nothing else of the client's text reaches Rasa), else None."""
    match = _SWITCH.fullmatch(text.strip())
    if match is None:
        return None
    try:
        entities = json.loads(match.group(1))
    except ValueError:
        return None
    if not isinstance(entities, dict) or set(entities) != {"language"}:
        return None
    code = entities["language"]
    return switch_payload(code) if isinstance(code, str) and code in set(languages) else None
