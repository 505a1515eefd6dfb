"""The reverse proxy's configuration is valid nginx, as the proxy image and Kubernetes load it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from proxy_support import check_config, docker_env, main_config, render_site
from stack_support import ROOT

K8S = ROOT / "deploy" / "k8s" / "base"


def k8s_proxy_env() -> dict[str, str]:
    """The proxy container's environment in deploy/k8s/base/, plus a cluster DNS address."""
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] == "Deployment" and doc["metadata"]["name"] == "proxy":
                [container] = doc["spec"]["template"]["spec"]["containers"]
                return {
                    "NGINX_LOCAL_RESOLVERS": "10.96.0.10",
                    **{e["name"]: e["value"] for e in container["env"]},
                }
    raise AssertionError("deploy/k8s/ has no proxy Deployment")


@pytest.mark.parametrize("deployment", ["docker", "kubernetes"])
def test_nginx_accepts_the_shipped_configuration(tmp_path: Path, deployment: str) -> None:
    env = docker_env() if deployment == "docker" else k8s_proxy_env()
    site = render_site(env)
    assert "${" not in site, site  # every placeholder has a value
    conf = main_config(tmp_path, site)
    if deployment == "kubernetes":  # the client's address from the Ingress controller's header
        shutil.copy(K8S / "realip.conf", conf.parent / "conf.d" / "realip.conf")
    checked = check_config(conf)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
