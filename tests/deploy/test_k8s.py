"""Kubernetes: the NetworkPolicies in deploy/k8s/ let only the proxy be reached from outside.

A small evaluator of the manifests' ingress rules (pod selectors by label, ports): who may open a
connection to which pod. Validated against the Kubernetes schema with `kubernetes-validate`
when it is installed (docs/deployment.md).
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import yaml
from proxy_support import require_tool
from stack_support import ROOT

MANIFEST = ROOT / "deploy" / "k8s" / "civic-assistant.yaml"
DOCS = [doc for doc in yaml.safe_load_all(MANIFEST.read_text()) if doc]
OUTSIDE = "outside"  # a client outside the namespace: the Internet, another tenant's pod


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in DOCS if doc["kind"] == kind]


def pods() -> dict[str, dict[str, str]]:
    return {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in of_kind("Deployment")}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def may_connect(source: str, target: str, port: int) -> bool:
    """Whether `source` (a Deployment's name, or OUTSIDE) may open `port` on `target`'s pods."""
    labels, source_labels = pods()[target], pods().get(source)
    rules = [
        rule
        for policy in of_kind("NetworkPolicy")
        if "Ingress" in policy["spec"]["policyTypes"] and selects(policy["spec"]["podSelector"], labels)
        for rule in policy["spec"].get("ingress", [])
    ]
    for rule in rules:
        ports = [p["port"] for p in rule.get("ports", [])]
        if ports and port not in ports:
            continue
        peers = rule.get("from")
        if peers is None:
            return True
        if source_labels is not None and any(
            "podSelector" in peer
            and "namespaceSelector" not in peer
            and selects(peer["podSelector"], source_labels)
            for peer in peers
        ):
            return True
    return False


def container_port(name: str) -> int:
    deployment = next(d for d in of_kind("Deployment") if d["metadata"]["name"] == name)
    return int(deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"])


def test_every_pod_is_closed_unless_a_policy_opens_it() -> None:
    deny = [
        p for p in of_kind("NetworkPolicy") if p["spec"]["podSelector"] == {} and "ingress" not in p["spec"]
    ]
    assert deny and deny[0]["spec"]["policyTypes"] == ["Ingress"]


def test_only_the_proxy_is_reachable_from_outside() -> None:
    reachable = {name for name in pods() if may_connect(OUTSIDE, name, container_port(name))}
    assert reachable == {"proxy"}
    exposed = {
        s["metadata"]["name"]
        for s in of_kind("Service")
        if s["spec"].get("type") in ("LoadBalancer", "NodePort")
    }
    assert exposed == {"proxy"}


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        ("actions", {"rasa"}),  # the action server answers Rasa only
        ("rasa", {"proxy", "handoff"}),  # channels through the proxy; the HTTP API for the console
        ("handoff", {"proxy"}),
        ("redis", {"rasa", "actions", "handoff"}),
    ],
)
def test_each_internal_service_admits_only_its_callers(target: str, allowed: set[str]) -> None:
    callers = {
        name for name in pods() if name != target and may_connect(name, target, container_port(target))
    }
    assert callers == allowed


def test_secrets_come_from_a_secret_never_from_the_manifest() -> None:
    text = MANIFEST.read_text()
    for name in ("RASA_TOKEN", "REST_CHANNEL_TOKEN", "ACTION_SERVER_TOKEN", "IDENTITY_SECRET"):
        assert f"{name}:" not in text and f"name: {name}" not in text
    for deployment in of_kind("Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            # Redis's password is in a here-document (its standard input), never in its argv
            argv = [arg.split("<<", 1)[0] for arg in container.get("command", []) + container.get("args", [])]
            assert not any("TOKEN" in arg or "PASSWORD" in arg for arg in argv), argv


def test_the_manifest_matches_the_kubernetes_schema() -> None:
    validate = require_tool("kubernetes-validate", "make deploy-tools")
    done = subprocess.run(
        [validate, "--strict", "--quiet", str(MANIFEST)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
