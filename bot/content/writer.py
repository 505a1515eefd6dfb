"""Write content files in one canonical layout, so tools can edit them and staff diffs stay small.

The layout is PyYAML's block style at width 100 (what the shipped files use):
the ``topic:`` header, then ``entries:`` with keys always in ``FILE_ENTRY_KEYS`` order,
optional keys left out when empty (``retired`` only written when true). The comment
block at the top of a file is kept verbatim; comments further down are not
(``body_comment_lines`` finds them so a caller can warn). Writing what was just read
from a canonical file gives the same bytes.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import yaml

from bot.content.model import TRANSLATION_KEYS, Entry, Topic, Translation, Variant
from bot.datafile import exclusive

LOCK_FILE = ".write.lock"  # in the content directory; ignored by git and by `topic_files`

ENTRY_KEYS = (
    "id",
    "kind",
    "department",
    "agency",
    "claim",
    "verdict",
    "related",
    "sensitive",
    "overridden_by",
    "questions",
    "answer",
    "short_answer",
    "source",
    "last_reviewed",
)
# A message test's variants (docs/experiments.md) follow the short answer; not in ENTRY_KEYS,
# whose texts are one CSV column each (csvio gives each variant a set of columns).
VARIANTS_KEY = "variants"
# Whether and when an entry is answered at all: after ``last_reviewed``, and (like the variants)
# not in ENTRY_KEYS: csvio exports their columns only when some entry uses them.
WINDOW_KEYS = ("retired", "valid_from", "valid_until")
# The entry in other languages (``{es: {questions, answer, ...}}``): last, after everything English.
TRANSLATIONS_KEY = "translations"
FILE_ENTRY_KEYS = (
    *ENTRY_KEYS[: ENTRY_KEYS.index("short_answer") + 1],
    VARIANTS_KEY,
    *ENTRY_KEYS[ENTRY_KEYS.index("short_answer") + 1 :],
    *WINDOW_KEYS,
    TRANSLATIONS_KEY,
)
# Written only when they say something; the loader reads a missing key as empty / false.
OPTIONAL_KEYS = frozenset(
    {
        "agency",
        "claim",
        "verdict",
        "related",
        "sensitive",
        "overridden_by",
        "short_answer",
        VARIANTS_KEY,
        *WINDOW_KEYS,
        TRANSLATIONS_KEY,
    }
)
TOPIC_KEYS = ("id", "title", TRANSLATIONS_KEY)
WIDTH = 100


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line texts as ``|`` blocks, the way a person would."""


def _block_safe(value: str) -> bool:
    """A ``|`` block keeps this text exactly: only printable characters and plain line breaks."""
    lines = value.split("\n")
    return len(lines) > 1 and all(line.isprintable() and line == line.rstrip() for line in lines)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Other line breaks, tabs and control characters: only double quotes (with escapes) keep them.
    style = "|" if _block_safe(value) else '"' if not value.isprintable() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def leading_comments(text: str) -> str:
    """The comment block (and blank lines) before the first YAML line, kept byte for byte."""
    kept = []
    for line in text.splitlines(keepends=True):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        kept.append(line)
    block = "".join(kept)
    return block if block.strip() else ""


def body_comment_lines(text: str) -> list[int]:
    """Line numbers of comments below the top block, which a rewrite drops.

    A heuristic: a ``#`` line inside a ``|`` block would be counted too, which only
    makes a caller warn once more than needed.
    """
    lines = text.splitlines()
    start = len(leading_comments(text).splitlines())
    return [n + 1 for n in range(start, len(lines)) if lines[n].lstrip().startswith("#")]


def variant_mapping(variant: Variant) -> dict[str, Any]:
    """A variant as a content file holds it: id, answer, short answer (when it has one), weight."""
    values: dict[str, Any] = {"id": variant.id, "answer": variant.answer}
    if variant.short_answer:
        values["short_answer"] = variant.short_answer
    return {**values, "weight": variant.weight}


def translation_mapping(translation: Translation) -> dict[str, Any]:
    """A translation as a content file holds it: its keys in TRANSLATION_KEYS order, empty ones left out."""
    values = {key: getattr(translation, key) for key in TRANSLATION_KEYS}
    values["questions"] = list(translation.questions)
    return {key: value for key, value in values.items() if value}


def entry_values(entry: Entry) -> dict[str, Any]:
    """Every key of the entry with its value, empty ones included (lists as lists)."""
    return {
        "id": entry.id,
        "kind": entry.kind,
        "department": entry.department,
        "agency": entry.agency,
        "claim": entry.claim,
        "verdict": entry.verdict,
        "related": entry.related,
        "sensitive": entry.sensitive,
        "overridden_by": list(entry.overridden_by),
        "questions": list(entry.questions),
        "answer": entry.answer,
        "short_answer": entry.short_answer,
        VARIANTS_KEY: [variant_mapping(variant) for variant in entry.variants],
        "source": entry.source,
        "last_reviewed": entry.last_reviewed,
        "retired": entry.retired,
        "valid_from": entry.valid_from,
        "valid_until": entry.valid_until,
        TRANSLATIONS_KEY: {t.language: translation_mapping(t) for t in entry.translations},
    }


def entry_mapping(entry: Entry) -> dict[str, Any]:
    """The entry as the mapping a content file holds, keys in canonical order."""
    values = entry_values(entry)
    return {key: values[key] for key in FILE_ENTRY_KEYS if values[key] or key not in OPTIONAL_KEYS}


def topic_header(topic: Topic) -> dict[str, Any]:
    """The ``topic:`` block: id, title, and the title in other languages when there are any."""
    header: dict[str, Any] = {"id": topic.id, "title": topic.title}
    if topic.titles:
        header[TRANSLATIONS_KEY] = {code: {"title": title} for code, title in topic.titles.items()}
    return header


def topic_text(topic: Topic, comments: str = "") -> str:
    """The whole file for ``topic``: kept comments, then the canonical YAML."""
    document = {
        "topic": topic_header(topic),
        "entries": [entry_mapping(entry) for entry in topic.entries],
    }
    body = yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=WIDTH,
    )
    return comments + body


def write_text_atomic(path: Path, text: str) -> None:
    """Replace the file in one step, so an interrupted write never leaves half a content file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_topic(topic: Topic, comments: str | None = None) -> bool:
    """Write ``topic`` to ``topic.path``; keep the file's top comments unless given. True if it changed."""
    old = topic.path.read_text(encoding="utf-8") if topic.path.exists() else ""
    text = topic_text(topic, leading_comments(old) if comments is None else comments)
    if text == old:
        return False
    write_text_atomic(topic.path, text)
    return True


TOP_KEYS = frozenset({"topic", "entries"})
_LINE = "__line__"


def unknown_keys(raw: Any) -> list[tuple[int, str]]:
    """(line, key) of every key the model does not know: a typo, or data a rewrite would drop."""
    if not isinstance(raw, dict):
        return []
    found = [(1, key) for key in raw if key not in TOP_KEYS and key != _LINE]
    meta = raw.get("topic")
    if isinstance(meta, dict):
        line = int(meta.get(_LINE, 1))
        found += [(line, f"topic.{key}") for key in meta if key not in TOPIC_KEYS and key != _LINE]
    for item in raw.get("entries") or []:
        if isinstance(item, dict):
            line = int(item.get(_LINE, 1))
            found += [(line, key) for key in item if key not in FILE_ENTRY_KEYS and key != _LINE]
    return found


def content_lock(content_dir: Path) -> AbstractContextManager[None]:
    """Held by every tool that reads, changes and writes back content files (the inbox's write-back,
    Promote): one at a time, across threads and console replicas, so no change is lost."""
    return exclusive(content_dir / LOCK_FILE)
