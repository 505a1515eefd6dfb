"""The console's packages depend one way: features (handoff, inbox) use the shell, never each other.

Read from the source with `ast` (every import, including those inside functions), so a lazy import
cannot hide a dependency; one check also imports the shell's modules in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import bot.console.app

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ("bot.handoff", "bot.inbox", "bot.broadcasts", "bot.studio")
PACKAGES = ("bot.console", *FEATURES)
SHELL_MOUNTS_FEATURES = {"bot.console.app"}  # the one shell module allowed to import a feature


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported(path: Path) -> set[str]:
    """Every `bot.*` name `path` imports; `from package import name` gives `package` and `package.name`
    (the caller keeps those that are modules)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.startswith("bot.")}


def package_of(module: str) -> str:
    return next(p for p in PACKAGES if module == p or module.startswith(p + "."))


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imported(path) & set(found) for name, path in found.items()}


def test_the_console_app_imports() -> None:
    assert callable(bot.console.app.create_app)


def test_features_never_import_each_other_and_the_shell_imports_them_only_to_mount_them() -> None:
    wrong = []
    for module, targets in graph().items():
        source = package_of(module)
        for target in targets:
            into = package_of(target)
            between_features = source in FEATURES and into in FEATURES and source != into
            shell_to_feature = source == "bot.console" and into in FEATURES
            if between_features or (shell_to_feature and module not in SHELL_MOUNTS_FEATURES):
                wrong.append(f"{module} imports {target}")
    assert not wrong, wrong


def test_no_import_cycle_between_the_console_modules() -> None:
    edges = graph()
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done:
            return
        assert module not in visiting, " -> ".join([*visiting[visiting.index(module) :], module])
        visiting.append(module)
        for target in sorted(edges[module]):
            visit(target)
        visiting.pop()
        done.add(module)

    for module in sorted(edges):
        visit(module)


def test_importing_the_shell_loads_no_feature() -> None:
    shell = [m for m in modules() if package_of(m) == "bot.console" and m not in SHELL_MOUNTS_FEATURES]
    probe = (
        f"import sys; import {', '.join(m for m in shell if not m.endswith('__main__'))}; "
        "print(sorted(m for m in sys.modules"
        " if m.startswith(('bot.handoff', 'bot.inbox', 'bot.broadcasts'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"
