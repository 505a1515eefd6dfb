"""Regenerate the Rasa data from the content files; train unless Rasa's fingerprint says nothing changed.

Also what a caller following a training needs: the number of components Rasa's training graph
trains (`graph_components`) and which of Rasa's log lines say one started or finished
(`component_event`), so a progress bar can show the fraction done.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from bot.content.generate import generated_files, write_generated
from bot.content.model import load_content, load_render_settings

BIN = Path(sys.executable).parent
REFUSED_DIR = "refused"  # under the model dir: models the gate refused, out of the model server's sight

# Rasa's training hooks (rasa.engine.training.hooks.LoggingHook) log one of the last two lines for
# every component the graph trains: trained now, or restored from Rasa's training cache.
_COMPONENT = re.compile(
    r"(?P<event>Starting to train|Finished training|Restored) component '(?P<name>[^']+)'"
)


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


def train_command(out_dir: Path, name: str = "") -> list[str]:
    """``rasa train`` into ``out_dir`` (named ``name`` if given), as `train` runs it."""
    argv = [str(BIN / "rasa"), "train", "--out", str(out_dir), "--num-threads", "2"]
    return [*argv, "--fixed-model-name", name] if name else argv


def train(model_dir: Path, root: Path = Path(".")) -> Path:
    """``rasa train`` into ``model_dir`` (about 10 minutes from scratch here); returns the new model."""
    result = subprocess.run(train_command(model_dir), cwd=root, check=False)
    model = newest_model(model_dir)
    if result.returncode != 0 or model is None:
        raise RuntimeError(f"rasa train failed (exit status {result.returncode}); see its output above")
    return model


def set_aside(model: Path, model_dir: Path) -> Path:
    """Move a refused model out of ``model_dir``'s top level, where the model server would find it
    (``bot.serve.models`` publishes the newest file there when it starts); returns its new path."""
    target = model_dir / REFUSED_DIR / model.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(model), target)
    return target


def graph_components(root: Path = Path(".")) -> list[str]:
    """The components Rasa's training graph trains for this project's config (slow: imports Rasa).

    Each logs "Starting to train" and "Finished training", or "Restored ... from cache", once.
    """
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.data import TrainingType
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_config(
        str(root / "config.yml"), str(root / "domain.yml"), [str(root / "data")]
    )
    training_type = TrainingType.NLU if importer.get_stories().is_empty() else TrainingType.BOTH
    recipe = Recipe.recipe_for_name(importer.get_config().get("recipe"))
    config, _, _ = recipe.auto_configure(
        importer.get_config_file_for_auto_config(), importer.get_config(), training_type
    )
    schema = recipe.graph_config_for_recipe(config, {}, training_type=training_type).train_schema
    return [node.uses.__name__ for node in schema.nodes.values() if node.is_target and not node.is_input]


def component_event(line: str) -> tuple[bool, str] | None:
    """(finished, component) for a line of Rasa's training log about a component, else None."""
    found = _COMPONENT.search(line)
    if found is None:
        return None
    return found["event"] != "Starting to train", found["name"]
