"""deploy/k8s/ read as kustomize reads it: kustomizations, the files they list, what they define.

Also renders an overlay with kubectl's built-in kustomize (`make deploy-tools` puts kubectl in
.tools/; no cluster is contacted), in a copy where the credential files the operator would create
are made from the committed `*.env.example` files.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from proxy_support import require_tool
from stack_support import ROOT

K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = sorted(path.parent for path in (K8S / "overlays").glob("*/kustomization.yaml"))
KUSTOMIZATIONS = [BASE, *OVERLAYS]
Resource = dict[str, Any]
Key = tuple[str, str]  # (kind, name)


def kustomization(directory: Path) -> dict[str, Any]:
    return yaml.safe_load((directory / "kustomization.yaml").read_text())


def documents(path: Path) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def listed_files(directory: Path) -> list[Path]:
    """Every file or directory a kustomization names: resources, patches, generators' sources."""
    k = kustomization(directory)
    names = list(k.get("resources", []))
    names += [patch["path"] for patch in k.get("patches", []) if "path" in patch]
    for generator in k.get("configMapGenerator", []) + k.get("secretGenerator", []):
        names += generator.get("envs", []) + [f.split("=", 1)[-1] for f in generator.get("files", [])]
    return [directory / name for name in names]


def resource_files(directory: Path) -> list[Path]:
    """The manifest files of a kustomization and of the kustomizations it builds on."""
    found: list[Path] = []
    for name in kustomization(directory).get("resources", []):
        path = (directory / name).resolve()
        found += resource_files(path) if path.is_dir() else [path]
    return found


def generated(directory: Path) -> set[Key]:
    """ConfigMaps and Secrets the generators of a kustomization (and its bases) create."""
    k = kustomization(directory)
    keys = {("ConfigMap", g["name"]) for g in k.get("configMapGenerator", [])}
    keys |= {("Secret", g["name"]) for g in k.get("secretGenerator", [])}
    for name in k.get("resources", []):
        path = (directory / name).resolve()
        if path.is_dir():
            keys |= generated(path)
    return keys


def defined(directory: Path) -> set[Key]:
    """(kind, name) of every resource a kustomization's bases and files define."""
    return {(d["kind"], d["metadata"]["name"]) for f in resource_files(directory) for d in documents(f)}


def base_resources() -> list[Resource]:
    return [doc for path in resource_files(BASE) for doc in documents(path)]


def render(overlay: Path, workdir: Path) -> list[Resource]:
    """`kubectl kustomize` of `overlay`, with every `*.env.example` copied to its `*.env`."""
    kubectl = require_tool("kubectl", "make deploy-tools")
    copy = workdir / "k8s"
    shutil.copytree(K8S, copy)
    for example in copy.rglob("*.env.example"):
        lines = example.read_text().splitlines()
        filled = [f"{line}{secrets.token_hex(12)}" if line.endswith("=") else line for line in lines]
        example.with_suffix("").write_text("\n".join(filled) + "\n")
    done = subprocess.run(
        [kubectl, "kustomize", str(copy / overlay.relative_to(K8S))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (workdir / "rendered.yaml").write_text(done.stdout)
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]
