"""Unpublished changes: one JSON file per entry in ``data/content/_studio_drafts/`` (not in git).

A draft holds the entry's fields as the studio edits them, who saved it last (its author), and
where it is in review: ``draft`` (an editor may publish it), ``awaiting_review`` (a change that
needs a second person; saving it is the request, there is no separate submit) or
``changes_requested`` (sent back with a comment). Files are shared by console replicas; writes are
atomic, and callers hold the content lock (`bot.content.writer.content_lock`) around a
read-modify-write.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bot.content.model import ID_PATTERN
from bot.content.writer import write_text_atomic

DRAFT = "draft"
AWAITING_REVIEW = "awaiting_review"
CHANGES_REQUESTED = "changes_requested"
STATES = (DRAFT, AWAITING_REVIEW, CHANGES_REQUESTED)


@dataclass(frozen=True)
class Draft:
    """An entry's unpublished fields and their review state (``base_version``: the history version
    the author started from, 0 for an entry the studio never published; ``author``: who saved it
    last, so nobody approves a change they made)."""

    entry_id: str
    topic: str
    fields: dict[str, Any]
    author: str
    saved_at: str
    state: str = DRAFT
    comment: str = ""
    approvals: tuple[str, ...] = ()
    base_version: int = 0
    is_new: bool = False
    note: str = ""  # why, as the author wrote it; the history keeps it with the published version
    sent_back_by: str = ""  # the reviewer who asked for changes (with `comment`)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "approvals": list(self.approvals)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Draft:
        state = str(raw.get("state") or DRAFT)
        return cls(
            entry_id=str(raw["entry_id"]),
            topic=str(raw.get("topic") or ""),
            fields=dict(raw.get("fields") or {}),
            author=str(raw.get("author") or ""),
            saved_at=str(raw.get("saved_at") or ""),
            state=state if state in STATES else DRAFT,
            comment=str(raw.get("comment") or ""),
            approvals=tuple(str(name) for name in raw.get("approvals") or ()),
            base_version=int(raw.get("base_version") or 0),
            is_new=bool(raw.get("is_new", False)),
            note=str(raw.get("note") or ""),
            sent_back_by=str(raw.get("sent_back_by") or ""),
        )

    def approved(self, name: str) -> Draft:
        return replace(self, approvals=(*self.approvals, name))

    def sent_back(self, comment: str, reviewer: str) -> Draft:
        return replace(self, state=CHANGES_REQUESTED, comment=comment, approvals=(), sent_back_by=reviewer)


class Drafts:
    """The drafts directory of one content directory."""

    def __init__(self, drafts_dir: Path) -> None:
        self.dir = drafts_dir

    def path(self, entry_id: str) -> Path:
        if not ID_PATTERN.match(entry_id):
            raise ValueError(f"not an entry id: {entry_id!r}")
        return self.dir / f"{entry_id}.json"

    def get(self, entry_id: str) -> Draft | None:
        path = self.path(entry_id)
        if not path.exists():
            return None
        return Draft.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def put(self, draft: Draft) -> None:
        text = json.dumps(draft.as_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        write_text_atomic(self.path(draft.entry_id), text)

    def delete(self, entry_id: str) -> None:
        self.path(entry_id).unlink(missing_ok=True)

    def all(self) -> list[Draft]:
        """Every draft, by entry id (a file that is not a draft is skipped)."""
        found = []
        for path in sorted(self.dir.glob("*.json")):
            if ID_PATTERN.match(path.stem):
                try:
                    found.append(Draft.from_dict(json.loads(path.read_text(encoding="utf-8"))))
                except (ValueError, KeyError, TypeError):
                    continue
        return found
