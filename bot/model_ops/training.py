"""Regenerate the Rasa data from the content files; train unless Rasa's fingerprint says nothing changed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.content.generate import generated_files, write_generated
from bot.content.model import load_content, load_render_settings

BIN = Path(sys.executable).parent


def regenerate(root: Path = Path(".")) -> list[Path]:
    """What ``python -m bot content generate`` does; returns the files that changed."""
    content_dir = root / "data/content"
    return write_generated(
        generated_files(load_content(content_dir), load_render_settings(content_dir)), root
    )


def newest_model(model_dir: Path) -> Path | None:
    models = sorted(model_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def up_to_date(root: Path = Path(".")) -> bool:
    """Rasa's own check (``rasa train --dry-run`` exits 0): config, domain and data match the newest model."""
    result = subprocess.run(
        [str(BIN / "rasa"), "train", "--dry-run"], cwd=root, capture_output=True, check=False
    )
    return result.returncode == 0


def train(model_dir: Path, root: Path = Path(".")) -> Path:
    """``rasa train`` into ``model_dir`` (about 10 minutes from scratch here); returns the new model."""
    argv = [str(BIN / "rasa"), "train", "--out", str(model_dir), "--num-threads", "2"]
    result = subprocess.run(argv, cwd=root, check=False)
    model = newest_model(model_dir)
    if result.returncode != 0 or model is None:
        raise RuntimeError(f"rasa train failed (exit status {result.returncode}); see its output above")
    return model
