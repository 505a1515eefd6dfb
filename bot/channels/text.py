"""Pure text helpers every connector uses: splitting long answers, short titles, numbered options.

Nothing here does I/O, so all of it is unit-tested on its own (tests/bot/channels/test_text.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

ELLIPSIS = "…"

# A break after a sentence (., !, ? or … and at most one closing quote or bracket) or at a line
# break. Every break is whitespace, and a link never contains whitespace, so links stay whole.
_SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))[ \t]+|[ \t]*\n\s*")
_WORD_BREAK = re.compile(r"\s+")
_CHOICE = re.compile(r"^\s*#?\s*(\d{1,2})\s*[.)]?\s*$")


def split_text(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, cut at the last sentence or line break that fits.

    Only a sentence longer than the limit is cut between words, and only a single word (or link)
    longer than the limit is cut inside, which no platform limit makes realistic.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    rest = text.strip()
    parts: list[str] = []
    while len(rest) > limit:
        cut, resume = _cut(rest, limit)
        head = rest[:cut].rstrip()
        if head:
            parts.append(head)
        rest = rest[resume:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _cut(text: str, limit: int) -> tuple[int, int]:
    """Where the first part ends and the rest starts (a break is whitespace, dropped from both)."""
    window = text[: limit + 1]
    for pattern in (_SENTENCE_BREAK, _WORD_BREAK):
        breaks = [m for m in pattern.finditer(window) if 0 < m.start() <= limit]
        if breaks:
            return breaks[-1].start(), breaks[-1].end()
    return limit, limit


def lead_and_last(text: str, limit: int, last_limit: int) -> tuple[list[str], str]:
    """Parts to send plainly, and a last part of at most `last_limit` characters to carry buttons."""
    parts = split_text(text, limit)
    if not parts:
        return [], ""
    last = parts.pop()
    if len(last) > last_limit:
        tail = split_text(last, last_limit)
        last = tail.pop()
        parts.extend(tail)
    return parts, last


def shorten(title: str, limit: int) -> str:
    """`title` in at most `limit` characters, with an ellipsis when it had to be cut."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    return title[: limit - 1].rstrip() + ELLIPSIS


def fits_bytes(value: str, limit: int) -> bool:
    return len(value.encode("utf-8")) <= limit


def button_title(button: dict[str, Any]) -> str:
    """A Rasa button's title (its payload when it has none)."""
    return str(button.get("title") or button.get("payload") or "").strip()


def button_payload(button: dict[str, Any]) -> str:
    """A Rasa button's payload (its title when it has none: tapping it then "types" the title)."""
    return str(button.get("payload") or button.get("title") or "").strip()


def numbered_options(text: str, titles: Sequence[str], prompt: str) -> str:
    """A question with its options as numbered lines, for channels without buttons (SMS)."""
    lines = [text.strip()] if text.strip() else []
    lines += [f"{number}. {title}" for number, title in enumerate(titles, start=1)]
    if prompt:
        lines.append(prompt)
    return "\n".join(lines)


def parse_choice(text: str) -> int | None:
    """The option number in a reply like "2", "2." or " #2 ", else None."""
    match = _CHOICE.match(text)
    return int(match.group(1)) if match else None


def typed_text(text: str) -> str:
    """What a citizen typed, made safe to hand to Rasa: a leading "/" would trigger an intent directly."""
    return text.strip().lstrip("/").strip()
