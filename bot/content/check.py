"""`python -m bot content check`: problems a person can fix, with file and line."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.content.generate import generated_files
from bot.content.model import ContentError, Entry, all_entries, load_content, load_render_settings

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str
    error: bool = True

    def __str__(self) -> str:
        kind = "error" if self.error else "warning"
        return f"{self.path}:{self.line}: {kind}: {self.message}"


def entry_problems(entries: list[Entry]) -> list[Problem]:
    problems = []
    counts = Counter(e.id for e in entries)
    for entry in entries:

        def add(message: str, error: bool = True, entry: Entry = entry) -> None:
            problems.append(Problem(entry.path, entry.line, f"{entry.id}: {message}", error))

        if counts[entry.id] > 1:
            add("duplicate id (used by another entry)")
        if not entry.answer:
            add("missing answer")
        if not entry.source:
            add("missing source link")
        if not entry.questions:
            add("needs at least one example question")
    return problems


def stale_generated() -> list[Problem]:
    """Generated files that do not match the content: someone edited them or forgot `make content`."""
    problems = []
    for item in generated_files(load_content(), load_render_settings()):
        if not item.path.exists() or item.path.read_text(encoding="utf-8") != item.text:
            problems.append(Problem(str(item.path), 1, "out of date: run `make content`"))
    return problems


def main(run_rasa: bool = True) -> int:
    try:
        problems = entry_problems(all_entries(load_content())) + stale_generated()
    except ContentError as exc:
        print(f"{exc.path}:{exc.line or 1}: error: {exc}")
        return 1
    for problem in problems:
        print(problem)
    errors = sum(p.error for p in problems)
    if run_rasa:
        result = subprocess.run([str(BIN / "rasa"), "data", "validate", "--fail-on-warnings"], check=False)
        errors += result.returncode != 0
    print(f"content check: {errors} error(s), {len(problems) - errors} warning(s)")
    return 1 if errors else 0
