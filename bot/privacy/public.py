"""The city's own published numbers and addresses, which redaction keeps.

A citizen quoting the Recycling Depot's phone number or City Hall's address has
said nothing about themselves; keeping them makes the inbox easier to read.
"""

from __future__ import annotations

from pathlib import Path

from bot.privacy.redact import Redactor

PUBLIC_SOURCES = (
    Path("data/agency.yml"),
    Path("data/content"),
    Path("data/entities"),
    Path("bot/demo_agency/data"),
)


def public_texts(sources: tuple[Path, ...] = PUBLIC_SOURCES) -> list[str]:
    """The text of every published data file (the agency's facts, content, entities, facility data)."""
    texts = []
    for source in sources:
        files = sorted(source.glob("*.yml")) + sorted(source.glob("*.json")) if source.is_dir() else []
        files += [source] if source.is_file() else []
        texts += [path.read_text(encoding="utf-8") for path in files]
    return texts


def public_redactor(sources: tuple[Path, ...] = PUBLIC_SOURCES) -> Redactor:
    return Redactor.with_public(public_texts(sources))
