"""Build the project's spaCy pipeline from packages, never from a download.

Blank English + the lookup lemmatizer from ``spacy-lookups-data`` + an entity
ruler fed from ``data/entities``. Rasa's ``SpacyNLP`` loads the result by path.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import yaml

ENTITIES_DIR = Path("data/entities")
PIPELINE_DIR = Path("build/spacy/harbor_en")
STAMP = "inputs.sha256"


def entity_patterns(entities_dir: Path = ENTITIES_DIR) -> list[dict[str, Any]]:
    """Entity-ruler patterns: names matched on lowercase words, formats as word regexes."""
    patterns: list[dict[str, Any]] = []
    for path in sorted(entities_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for label, names in data.items():
            if label == "formats":
                continue
            for name in names:
                words = str(name).lower().split()
                patterns.append({"label": label, "pattern": [{"LOWER": word} for word in words]})
        for label, formats in (data.get("formats") or {}).items():
            for words in formats:
                patterns.append({"label": label, "pattern": [{"LOWER": {"REGEX": rx}} for rx in words]})
    return patterns


def inputs_digest(patterns: list[dict[str, Any]]) -> str:
    import spacy
    import spacy_lookups_data

    blob = json.dumps(
        {"patterns": patterns, "spacy": spacy.__version__, "lookups": spacy_lookups_data.__version__},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def build(out: Path = PIPELINE_DIR, entities_dir: Path = ENTITIES_DIR, force: bool = False) -> bool:
    """Build the pipeline when its inputs changed; returns whether it was rebuilt."""
    import spacy

    patterns = entity_patterns(entities_dir)
    digest = inputs_digest(patterns)
    stamp = out / STAMP
    if not force and stamp.exists() and stamp.read_text() == digest:
        return False
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    nlp.initialize()  # loads the lemma tables from spacy-lookups-data, offline
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    nlp.meta.update({"name": "harbor_en", "version": "1.0.0", "description": "Civic Assistant pipeline"})
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    stamp.write_text(digest)
    return True
