"""Promote and the review inbox's write-back change the same content files: they take one lock, so
neither overwrites the other's change, whichever thread or console replica runs them."""

from __future__ import annotations

import threading
from pathlib import Path

from experiments_support import WARM, project

from bot.content.model import Entry, all_entries, load_content
from bot.content.writer import content_lock
from bot.experiments.promote import promote
from bot.inbox.config import InboxConfig
from bot.inbox.writeback import ContentEditor


def entry(content: Path, entry_id: str) -> Entry:
    return next(e for e in all_entries(load_content(content)) if e.id == entry_id)


def test_a_promote_waits_for_an_inbox_write_and_both_changes_stay(tmp_path: Path) -> None:
    content = project(tmp_path)
    editor = ContentEditor(InboxConfig(content_dir=content))
    done = threading.Event()

    def promote_warm() -> None:
        promote(content, "library_hours", "warm")
        done.set()

    with content_lock(content):  # an inbox write in progress (held as add_example holds it)
        worker = threading.Thread(target=promote_warm)
        worker.start()
        # No signal can show a thread waiting; half a second is ample for an unlocked write to land.
        assert not done.wait(0.5)  # Promote is waiting, not writing over the file
        assert entry(content, "library_hours").variants
    worker.join(timeout=30)
    assert done.is_set()
    editor.add_example("library_hours", "is the library open on saturdays")

    promoted = entry(content, "library_hours")
    assert promoted.answer == WARM and not promoted.variants
    assert "is the library open on saturdays" in promoted.questions
