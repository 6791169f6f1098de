"""deploy/: the compose, Kubernetes, NATS, Prometheus and Grafana files parse and agree with the
code (Docker and kubectl are not needed: these are static checks)."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.metrics import MetricWrapperBase

from nastavnik.common import metrics
from nastavnik.common.embedded import nats_server_binary

yaml = pytest.importorskip("yaml")

DEPLOY = Path(__file__).resolve().parents[2]
ROOT = DEPLOY.parent
SERVICES = ("registry", "matching", "monitoring", "notifications")
NATS_CONFIGS = sorted((DEPLOY / "nats").glob("nats-*.conf"))


def load_yaml(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def exposed_metric_names() -> set[str]:
    """Every sample name the services' /metrics can show."""
    names: set[str] = set()
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        for family in value.describe():
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
            names |= {family.name + s for s in suffixes.get(family.type, ("",))}
    return names


def metric_names_in(text: str) -> set[str]:
    return set(re.findall(r"\bnastavnik_[a-z_]+", text))


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.y*ml")), ids=lambda p: p.name)
def test_yaml_files_parse(path: Path) -> None:
    assert load_yaml(path)


def test_nats_cluster_configs_are_valid_and_durable() -> None:
    assert len(NATS_CONFIGS) == 3
    for config in NATS_CONFIGS:
        checked = subprocess.run(
            [nats_server_binary(), "-t", "-c", str(config)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stderr + checked.stdout
        text = config.read_text()
        assert re.search(r"^\s*sync_interval:\s*always\s*$", text, re.MULTILINE)
        assert all(f"nats-route://nats-{i}:6222" in text for i in (1, 2, 3))


def test_compose_runs_the_whole_system() -> None:
    compose = load_yaml(DEPLOY / "compose" / "docker-compose.yml")[0]
    services = compose["services"]
    expected = {"nats-1", "nats-2", "nats-3", "postgres", "provision", "prometheus", "grafana"}
    assert expected | set(SERVICES) <= set(services)
    assert services["provision"]["command"][-2:] == ["--replicas", "3"]
    for name in SERVICES:
        assert services[name]["command"] == ["python", "-m", f"nastavnik.{name}"]
        assert "provision" in services[name]["depends_on"]
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / "compose" / source).exists(), f"{name}: {source}"


def test_prometheus_scrapes_the_four_services() -> None:
    config = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")[0]
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    assert {f"{name}:8000" for name in SERVICES} <= targets


def test_dashboard_and_alerts_use_metrics_the_services_expose() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "nastavnik.json").read_text())
    expressions = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    used = metric_names_in(expressions)
    assert {
        "nastavnik_http_requests_total",
        "nastavnik_http_request_duration_seconds_bucket",
        "nastavnik_outbox_backlog",
        "nastavnik_outbox_oldest_age_seconds",
        "nastavnik_dead_letters_total",
        "nastavnik_events_redelivered_total",
    } <= used
    alerts = metric_names_in((DEPLOY / "prometheus" / "alerts.yml").read_text())
    assert used | alerts <= exposed_metric_names()


def test_kubernetes_deployments_have_probes_and_settings() -> None:
    k8s = DEPLOY / "k8s"
    kustomization = load_yaml(k8s / "kustomization.yaml")[0]
    assert all((k8s / resource).exists() for resource in kustomization["resources"])
    deployments = {
        doc["metadata"]["name"]: doc
        for resource in kustomization["resources"]
        for doc in load_yaml(k8s / resource)
        if doc["kind"] == "Deployment"
    }
    assert set(deployments) == set(SERVICES)
    for name, deployment in deployments.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == ["python", "-m", f"nastavnik.{name}"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
        assert sources == {"nastavnik-settings", "nastavnik-secrets"}
    job = load_yaml(k8s / "provision-job.yaml")[0]
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[-3:] == ["nastavnik.common.provisioning", "--replicas", "3"]


def test_nats_helm_values_ask_for_a_durable_three_node_cluster() -> None:
    values = load_yaml(DEPLOY / "k8s" / "nats-values.yaml")[0]
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert values["config"]["jetstream"]["merge"]["sync_interval"] == "always"


def test_dockerfile_copies_every_workspace_member() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = {
        path.parent.relative_to(ROOT).as_posix()
        for pattern in root["tool"]["uv"]["workspace"]["members"]
        for path in ROOT.glob(f"{pattern}/pyproject.toml")
    }
    assert members
    for member in members:
        assert f"COPY {member}/pyproject.toml {member}/" in dockerfile, member
