"""Promote: the winning wording of a message test becomes the entry's answer, and the test ends.

The entry's ``answer`` and ``short_answer`` are replaced by the variant's and its ``variants:``
removed, through ``bot.content.writer`` (the file's top comments kept, the canonical layout, as the
review inbox writes back). The content check's error rules run before and after: a write that adds
an error (e.g. a phone number the agency file does not have) is undone and refused. Then the
generated Rasa files are regenerated; the new wording is live after the next model reload.
Blocking file work: call it off the event loop (``asyncio.to_thread``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.content.check import content_errors
from bot.content.generate import generated_files, write_generated
from bot.content.model import Entry, Topic, load_content, load_render_settings
from bot.content.writer import body_comment_lines, content_lock, write_text_atomic, write_topic


class PromoteRefused(ValueError):
    """A promotion that cannot be written, with a reason an editor can act on."""


@dataclass(frozen=True)
class Promoted:
    entry: Entry
    variant: str
    path: Path
    lost_comment_lines: tuple[int, ...]  # comments below the file's top block, which a rewrite drops


def _find(topics: list[Topic], entry_id: str) -> tuple[Topic, int]:
    for topic in topics:
        for index, entry in enumerate(topic.entries):
            if entry.id == entry_id:
                return topic, index
    raise PromoteRefused(f"there is no entry {entry_id!r} in the content")


def promote(content_dir: Path, entry_id: str, variant_id: str, today: date | None = None) -> Promoted:
    """Write ``variant_id``'s wording as ``entry_id``'s answer and drop its variants; refuse a bad write.

    ``last_reviewed`` becomes today: choosing the wording is a review of the answer.
    """
    with content_lock(content_dir):
        topics = load_content(content_dir)
        topic, index = _find(topics, entry_id)
        entry = topic.entries[index]
        if not entry.variants:
            raise PromoteRefused(f"{entry_id!r} is not under test any more (it has no variants)")
        variant = next((v for v in entry.variants if v.id == variant_id), None)
        if variant is None:
            raise PromoteRefused(f"{entry_id!r} has no variant {variant_id!r}")
        promoted = dataclasses.replace(
            entry,
            answer=variant.answer,
            short_answer=variant.short_answer,
            variants=(),
            last_reviewed=(today or date.today()).isoformat(),
        )
        entries = (*topic.entries[:index], promoted, *topic.entries[index + 1 :])
        agency_file = content_dir.parent / "agency.yml"
        agency = agency_file if agency_file.exists() else None
        before = content_errors(content_dir, agency)
        old = topic.path.read_text(encoding="utf-8")
        write_topic(dataclasses.replace(topic, entries=entries))
        added = content_errors(content_dir, agency) - before
        if added:
            write_text_atomic(topic.path, old)
            raise PromoteRefused("the change was not saved: " + "; ".join(sorted(added)))
        root = content_dir.parent.parent
        write_generated(generated_files(load_content(content_dir), load_render_settings(content_dir)), root)
        return Promoted(promoted, variant.id, topic.path, tuple(body_comment_lines(old)))
