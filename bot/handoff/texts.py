"""Citizen-facing wording of the console (data/handoff/messages.yml), read per use so staff edits apply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def text(data_dir: Path, key: str, **values: Any) -> str:
    raw = yaml.safe_load((data_dir / "messages.yml").read_text(encoding="utf-8")) or {}
    template = raw.get(key)
    if not isinstance(template, str):
        raise KeyError(f"{data_dir / 'messages.yml'} has no text {key!r}")
    return template.format(**values)
