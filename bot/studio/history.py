"""Every published version of every entry, on disk beside the content files (kept in git).

One JSON Lines file per entry (``data/content/_history/<entry_id>.jsonl``), one object per version,
oldest first. The content files stay the source of truth: the history says who published what,
when, why and what changed, and holds each version's whole entry so a revert can bring it back.
An entry the studio never published has no file; its first publish writes version 1 as the entry
was in the files (action ``baseline``) before its own version 2.

Appending rewrites the whole file atomically (`write_text_atomic`); callers hold the content lock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bot.content.model import ID_PATTERN, Entry, parse_entry
from bot.content.writer import entry_mapping, write_text_atomic

ACTIONS = ("baseline", "publish", "create", "retire", "restore", "revert")
BASELINE_AUTHOR = "content files"
# Set by every publish (today), so a diff would always show it: not a change anyone made.
UNDIFFED = frozenset({"last_reviewed"})


@dataclass(frozen=True)
class Version:
    """One published version: who, when, approved by whom, why, what changed, and the whole entry."""

    version: int
    at: str
    by: str
    action: str
    entry: dict[str, Any]
    approved_by: tuple[str, ...] = ()
    note: str = ""
    reverted_to: int | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "at": self.at,
            "by": self.by,
            "approved_by": list(self.approved_by),
            "note": self.note,
            "action": self.action,
            "reverted_to": self.reverted_to,
            "changes": self.changes,
            "entry": self.entry,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Version:
        reverted = raw.get("reverted_to")
        return cls(
            version=int(raw["version"]),
            at=str(raw.get("at", "")),
            by=str(raw.get("by", "")),
            action=str(raw.get("action", "publish")),
            entry=dict(raw.get("entry") or {}),
            approved_by=tuple(str(name) for name in raw.get("approved_by") or ()),
            note=str(raw.get("note") or ""),
            reverted_to=int(reverted) if reverted is not None else None,
            changes={str(k): list(v) for k, v in (raw.get("changes") or {}).items()},
        )

    def as_entry(self, path: Path, topic: str) -> Entry:
        """The entry as it was in this version (for a revert, or to render its wording)."""
        return parse_entry(dict(self.entry), path, topic)


def entry_record(entry: Entry) -> dict[str, Any]:
    """The entry as history keeps it: exactly the mapping its content file holds."""
    return entry_mapping(entry)


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field by field, ``{field: [old, new]}`` for every field that differs (absent reads as None)."""
    keys = [*old, *(key for key in new if key not in old)]
    return {
        key: [old.get(key), new.get(key)]
        for key in keys
        if key not in UNDIFFED and old.get(key) != new.get(key)
    }


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class History:
    """The history files of one content directory."""

    def __init__(self, history_dir: Path) -> None:
        self.dir = history_dir

    def path(self, entry_id: str) -> Path:
        if not ID_PATTERN.match(entry_id):
            raise ValueError(f"not an entry id: {entry_id!r}")
        return self.dir / f"{entry_id}.jsonl"

    def versions(self, entry_id: str) -> list[Version]:
        """Every version of ``entry_id``, oldest first; [] for an entry the studio never published."""
        path = self.path(entry_id)
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        return [Version.from_dict(json.loads(line)) for line in lines if line.strip()]

    def latest(self, entry_id: str) -> int:
        """The newest version number, 0 without history."""
        versions = self.versions(entry_id)
        return versions[-1].version if versions else 0

    def append(self, entry_id: str, versions: list[Version]) -> None:
        """Add ``versions`` after the existing ones (call under the content lock)."""
        path = self.path(entry_id)
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old and not old.endswith("\n"):
            old += "\n"
        added = "".join(json.dumps(v.as_dict(), ensure_ascii=False, sort_keys=False) + "\n" for v in versions)
        write_text_atomic(path, old + added)
