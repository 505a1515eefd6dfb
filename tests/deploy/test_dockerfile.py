"""The Dockerfile passes hadolint and builds a runtime image without build tools, running as a
non-root user with the model trained in the build stage (there is no container runtime here to
build it, so its stages are read as Docker reads them)."""

from __future__ import annotations

import re
import subprocess

from proxy_support import require_tool
from stack_support import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def stages() -> dict[str, tuple[str, str]]:
    """Each stage's name -> (base image, instructions), comments and continuations folded."""
    text = re.sub(r"^\s*#.*\n", "", DOCKERFILE, flags=re.M).replace("\\\n", " ")
    found: dict[str, tuple[str, str]] = {}
    for block in re.split(r"^FROM ", text, flags=re.M)[1:]:
        header, _, body = block.partition("\n")
        image, _, name = header.partition(" AS ")
        found[name.strip()] = (image.strip(), body)
    return found


def instructions(body: str, keyword: str) -> list[str]:
    return re.findall(rf"^{keyword} (.*)$", body, re.M)


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = require_tool("hadolint", "make deploy-tools")
    done = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_app_image_is_the_last_stage_and_has_no_build_tools() -> None:
    named = stages()
    assert list(named)[-1] == "app"  # `docker build .` builds it
    image, body = named["app"]
    assert image == named["build"][0] == "python:3.10-slim"  # the virtual environment runs as built
    for tool in ("build-essential", "gcc", "g++", "make ", "apt-get install", "pip install"):
        assert tool not in body, tool
    assert "build-essential" in named["build"][1]


def test_the_app_runs_as_a_non_root_user() -> None:
    _, body = stages()["app"]
    [user] = instructions(body, "USER")
    assert user.strip() not in ("0", "root") and user.strip().isdigit()  # numeric: runAsNonRoot can check it
    assert re.search(rf"useradd .*--uid {user.strip()} ", body)


def test_the_model_is_trained_in_the_build_stage_and_copied() -> None:
    named = stages()
    build = named["build"][1]
    assert re.search(
        r"python -m bot content generate && python -m bot nlp build .*rasa train --out models", build
    )
    copies = instructions(named["app"][1], "COPY")
    assert any(c.startswith("--from=build") and c.endswith(" /app/models") for c in copies), copies
    assert any(c.startswith("--from=build") and "/opt/venv" in c for c in copies), copies
    assert instructions(named["app"][1], "ENTRYPOINT") == ['["docker-entrypoint.sh"]']
