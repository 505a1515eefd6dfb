"""Citizen-facing wording of the console: data/handoff/messages.yml and canned_replies.yml.

Read per use, so staff edits apply at once; ``{agency.<key>}`` placeholders get the
agency's facts from data/agency.yml (``bot.content.agency``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.content.agency import load_agency


def _messages(data_dir: Path) -> dict[str, Any]:
    raw = yaml.safe_load((data_dir / "messages.yml").read_text(encoding="utf-8")) or {}
    return raw if isinstance(raw, dict) else {}


def text(data_dir: Path, key: str, **values: Any) -> str:
    """The ``key`` text with the agency's facts, then ``values``, filled in.

    Raises ``KeyError`` for a missing text or value and ``UnknownFactError`` for an unknown fact.
    """
    template = _messages(data_dir).get(key)
    if not isinstance(template, str):
        raise KeyError(f"{data_dir / 'messages.yml'} has no text {key!r}")
    return load_agency().expand(template).format(**values)


def count_text(data_dir: Path, key: str, n: int) -> str:
    """``n`` in words from ``counts.<key>``: ``zero`` for 0 (when given), ``one`` for 1, else ``other``.

    Raises ``KeyError`` naming the file when the count or the form it needs is missing.
    """
    forms = (_messages(data_dir).get("counts") or {}).get(key)
    if not isinstance(forms, dict):
        raise KeyError(f"{data_dir / 'messages.yml'} has no counts.{key}")
    form = "zero" if n == 0 and "zero" in forms else "one" if n == 1 else "other"
    template = forms.get(form)
    if not isinstance(template, str):
        raise KeyError(f"{data_dir / 'messages.yml'}: counts.{key} has no {form!r} form")
    return template.format(n=n)


def wait_words(data_dir: Path, position: int, minutes: int) -> dict[str, str]:
    """The ``{ahead}`` and ``{wait}`` of the handoff texts for a place in line and a wait in minutes."""
    return {
        "ahead": count_text(data_dir, "ahead", max(0, position - 1)),
        "wait": count_text(data_dir, "wait", minutes),
    }


def canned_replies(data_dir: Path) -> list[dict[str, str]]:
    """The ``title`` and ``text`` of each reply in ``canned_replies.yml`` ([] without the file).

    Texts come with the agency's facts filled in; an unknown ``{agency.<key>}`` stays as
    written for the agent to see (``content check`` reports it).
    """
    path = data_dir / "canned_replies.yml"
    if not path.exists():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = raw.get("canned_replies", raw.get("replies", raw)) if isinstance(raw, dict) else raw
    if isinstance(items, dict):
        items = [{"title": k, "text": v} for k, v in items.items()]
    agency = load_agency()
    replies = []
    for item in items or []:
        if isinstance(item, dict) and item.get("text"):
            said = agency.expand(str(item["text"]), strict=False)
            replies.append({"title": str(item.get("title") or said)[:80], "text": said})
    return replies
