"""Kubernetes: deploy/k8s/ (a kustomize base and example overlays) builds, matches the Kubernetes
schema, and exposes only the proxy.

No cluster here: every manifest of the base and every rendered overlay is checked with
`kubernetes-validate --strict`, the overlays are rendered with kubectl's kustomize, and a small
evaluator of the NetworkPolicies' ingress rules (pod selectors by label, ports) says who may open
a connection to which pod.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from k8s_support import (
    BASE,
    K8S,
    KUSTOMIZATIONS,
    OVERLAYS,
    Resource,
    base_resources,
    defined,
    documents,
    generated,
    kustomization,
    listed_files,
    render,
    resource_files,
)
from proxy_support import require_tool

DOCS = base_resources()
OUTSIDE = "outside"  # a client outside the namespace: the Internet, another tenant's pod
WORKLOADS = ("Deployment", "StatefulSet")
MANAGED = K8S / "overlays" / "example-managed-redis"


def of_kind(kind: str, docs: list[Resource] = DOCS) -> list[Resource]:
    return [doc for doc in docs if doc["kind"] == kind]


def named(kind: str, name: str, docs: list[Resource] = DOCS) -> Resource:
    return next(d for d in of_kind(kind, docs) if d["metadata"]["name"] == name)


def containers(docs: list[Resource] = DOCS) -> list[dict[str, Any]]:
    return [
        c
        for kind in WORKLOADS
        for d in of_kind(kind, docs)
        for c in d["spec"]["template"]["spec"]["containers"]
    ]


def pods() -> dict[str, dict[str, str]]:
    return {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for kind in WORKLOADS
        for d in of_kind(kind)
    }


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def may_connect(source: str, target: str, port: int) -> bool:
    """Whether `source` (a workload's name, or OUTSIDE) may open `port` on `target`'s pods."""
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


def container_of(name: str) -> dict[str, Any]:
    workload = next(d for kind in WORKLOADS for d in of_kind(kind) if d["metadata"]["name"] == name)
    return dict(workload["spec"]["template"]["spec"]["containers"][0])


def container_port(name: str) -> int:
    return int(container_of(name)["ports"][0]["containerPort"])


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


# ---- the kustomizations hold together -------------------------------------------------------


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda d: str(d.relative_to(K8S)))
def test_every_file_a_kustomization_lists_exists(directory: Path) -> None:
    for path in listed_files(directory):
        if path.name in ("secrets.env", "channels.env"):  # the operator's, from the .example
            assert path.with_name(path.name + ".example").is_file(), path
            continue
        assert path.exists(), f"{directory / 'kustomization.yaml'} lists {path}, which does not exist"


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda d: d.name)
def test_every_patch_targets_a_resource_the_bases_define(overlay: Path) -> None:
    k = kustomization(overlay)
    below = set().union(*(defined(overlay / r) | generated(overlay / r) for r in k["resources"]))
    for patch in k.get("patches", []):
        targets = (
            [(patch["target"]["kind"], patch["target"]["name"])]
            if "target" in patch
            else [(d["kind"], d["metadata"]["name"]) for d in documents(overlay / patch["path"])]
        )
        for target in targets:
            assert target in below, f"{overlay.name}: {patch} patches {target}, which no base defines"
    for generator in k.get("configMapGenerator", []) + k.get("secretGenerator", []):
        if generator.get("behavior") == "merge":
            kind = "ConfigMap" if generator in k.get("configMapGenerator", []) else "Secret"
            assert (kind, generator["name"]) in below, generator


def test_credentials_are_never_committed() -> None:
    """The overlay's credential files come from committed examples with no values; git ignores them."""
    example = K8S / "overlays" / "example"
    assert {"secrets.env", "channels.env"} <= set((example / ".gitignore").read_text().split())
    for template in example.glob("*.env.example"):
        for line in template.read_text().splitlines():
            if line and not line.startswith("#"):
                assert line.endswith("="), (template, line)
    generators = {g["name"]: g["envs"] for g in kustomization(example)["secretGenerator"]}
    assert generators == {"civic-secrets": ["secrets.env"], "civic-channels": ["channels.env"]}


# ---- schema --------------------------------------------------------------------------------


def validate(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    validator = require_tool("kubernetes-validate", "make deploy-tools")
    return subprocess.run(
        [validator, "--strict", "--quiet", *map(str, paths)], capture_output=True, text=True, timeout=300
    )


def test_every_manifest_of_the_base_matches_the_kubernetes_schema() -> None:
    done = validate(resource_files(BASE))
    assert done.returncode == 0, done.stdout + done.stderr


Rendered = tuple[Path, Path, list[Resource]]  # the overlay, the rendered file, its resources


@pytest.fixture(scope="module", params=OVERLAYS, ids=lambda d: d.name)
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    workdir = tmp_path_factory.mktemp(request.param.name)
    docs = render(request.param, workdir)
    return request.param, workdir / "rendered.yaml", docs


def test_a_rendered_overlay_matches_the_kubernetes_schema(rendered: Rendered) -> None:
    overlay, path, docs = rendered
    assert {"Deployment", "Service", "Secret", "ConfigMap", "Ingress"} <= {d["kind"] for d in docs}, overlay
    done = validate([path])
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_rendered_overlay_references_only_what_it_defines(rendered: Rendered) -> None:
    """Secrets and ConfigMaps carry the generators' hashed names everywhere they are used, and the
    proxy finds the services in the namespace they are in."""
    overlay, _, docs = rendered
    have = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for container in containers(docs):
        for source in container.get("envFrom", []):
            for kind, field in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                if field in source:
                    assert (kind, source[field]["name"]) in have, (overlay.name, source)
        for entry in container.get("env", []):
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ("Secret", ref["name"]) in have, (overlay.name, entry)
        assert not container["image"].endswith(":latest"), container["image"]
    proxy = named("Deployment", "proxy", docs)
    namespace = proxy["metadata"]["namespace"]
    for entry in proxy["spec"]["template"]["spec"]["containers"][0]["env"]:
        host = re.match(r"http://([^:/]+)", entry["value"])
        assert host and host.group(1).split(".")[1] == namespace, entry
        assert ("Service", host.group(1).split(".")[0]) in have, entry


def test_the_managed_redis_overlay_runs_no_redis_and_points_at_the_endpoint(tmp_path: Path) -> None:
    docs = render(MANAGED, tmp_path)
    assert not of_kind("StatefulSet", docs)
    assert not [d for d in docs if d["metadata"]["name"].startswith("redis")]
    [config] = [d for d in of_kind("ConfigMap", docs) if d["metadata"]["name"].startswith("civic-config")]
    assert config["data"]["REDIS_HOST"] not in ("redis", "127.0.0.1")
    # the rest of the example overlay is kept: its agency settings, images and secrets
    assert config["data"]["OPEN311_BASE_URL"].startswith("https://")
    assert of_kind("Secret", docs)


# ---- what the manifests do -------------------------------------------------------------------


def test_rasa_runs_several_replicas_ready_only_with_a_model() -> None:
    rasa = named("Deployment", "rasa")
    assert rasa["spec"]["replicas"] >= 2
    [container] = rasa["spec"]["template"]["spec"]["containers"]
    # ready means a model is loaded: /status answers 409 before; the token is read inside the probe
    probe = " ".join(container["readinessProbe"]["exec"]["command"])
    assert "/status" in probe and "os.environ['RASA_TOKEN']" in probe
    assert container["livenessProbe"] and container["startupProbe"]
    env = env_of(container)
    assert env["RASA_REPLICA_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["MODEL_SERVER_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "civic-secrets"
    config = (BASE / "config.env").read_text()
    assert "MODEL_SERVER_URL=http://models:5057/models/current" in config.splitlines()
    assert named("Service", "models")["spec"]["ports"][0]["port"] == 5057

    [hpa] = of_kind("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2" and hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rasa"}


def test_redis_keeps_every_conversation() -> None:
    redis = named("StatefulSet", "redis")
    [claim] = redis["spec"]["volumeClaimTemplates"]
    [container] = redis["spec"]["template"]["spec"]["containers"]
    assert {"name": claim["metadata"]["name"], "mountPath": "/data"} in container["volumeMounts"]
    config = container["args"][0].split("<<", 1)[1]
    for line in ("appendonly yes", "maxmemory-policy noeviction", 'requirepass "$REDIS_PASSWORD"'):
        assert line in config.splitlines(), line
    assert re.search(r"^maxmemory \S+$", config, re.M)
    assert env_of(container)["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "civic-secrets"


def test_every_container_is_probed_and_limited() -> None:
    for container in containers():
        assert container.get("readinessProbe") and container.get("livenessProbe"), container["name"]
        assert container["resources"]["limits"]["memory"], container["name"]


# ---- who may reach what --------------------------------------------------------------------


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
    assert not exposed
    [ingress] = of_kind("Ingress")
    backends = {
        path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"proxy"}


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        ("actions", {"rasa"}),  # the action server answers Rasa only
        ("models", {"rasa"}),  # the model server: the replicas pull their model
        ("rasa", {"proxy", "handoff"}),  # channels through the proxy; the HTTP API for the console
        ("handoff", {"proxy"}),
        ("redis", {"rasa", "models", "actions", "handoff", "broadcaster"}),
    ],
)
def test_each_internal_service_admits_only_its_callers(target: str, allowed: set[str]) -> None:
    callers = {
        name for name in pods() if name != target and may_connect(name, target, container_port(target))
    }
    assert callers == allowed


def test_the_monitoring_namespace_may_scrape_every_service_it_has_metrics_for() -> None:
    [policy] = [p for p in of_kind("NetworkPolicy") if p["metadata"]["name"] == "metrics-from-monitoring"]
    [rule] = policy["spec"]["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    scraped = {name for name, labels in pods().items() if selects(policy["spec"]["podSelector"], labels)}
    assert scraped == {"rasa", "actions", "handoff", "models", "broadcaster"}
    assert {container_port(name) for name in scraped} == {p["port"] for p in rule["ports"]}
    for name in scraped:
        assert env_of(container_of(name))["METRICS_TOKEN"]["valueFrom"]["secretKeyRef"] == {
            "name": "civic-secrets", "key": "METRICS_TOKEN", "optional": True
        }  # fmt: skip


def test_secrets_come_from_a_secret_never_from_the_manifest() -> None:
    secret_like = re.compile(r"TOKEN|SECRET|PASSWORD|API_KEY|AUTH")
    for path in K8S.rglob("*"):
        if path.is_file() and not path.name.endswith(".example") and path.name not in (".gitignore",):
            text = path.read_text()
            for name in ("RASA_TOKEN", "REST_CHANNEL_TOKEN", "ACTION_SERVER_TOKEN", "MODEL_SERVER_TOKEN"):
                assert f"{name}:" not in text and f"{name}=" not in text, path
    for container in containers():
        for name, entry in env_of(container).items():
            if secret_like.search(name):
                assert "secretKeyRef" in entry.get("valueFrom", {}), (container["name"], name)
        # Redis's password is in a here-document (its standard input), never in its argv
        argv = [arg.split("<<", 1)[0] for arg in container.get("command", []) + container.get("args", [])]
        assert not any(secret_like.search(arg) for arg in argv), argv
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            command = " ".join(container.get(probe, {}).get("exec", {}).get("command", []))
            assert "$" not in command, command  # nothing expanded into a probe's command line
