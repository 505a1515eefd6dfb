"""The Dockerfile passes hadolint (there is no container runtime here to build it)."""

from __future__ import annotations

import subprocess

from proxy_support import require_tool
from stack_support import ROOT


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = require_tool("hadolint", "make deploy-tools")
    done = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
