"""The Kubernetes manifests (platform/k8s/) pass a schema check and say what the deployment needs.

Schemas: kubernetes-validate (PyPI; it ships the Kubernetes OpenAPI schemas, so it works offline,
where kubeconform would download them at run time from a host CI cannot reach). Strict mode: an
unknown or misspelt field fails. KEDA's kinds are custom resources it has no schema for: they are
checked structurally below, and against the objects they name.
"""

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

K8S = Path(settings.BASE_DIR) / "platform" / "k8s"
KUBERNETES = "1.30.0"  # the oldest version the manifests claim to support (docs/deployment.md)
CUSTOM = {"ScaledObject", "TriggerAuthentication", "Kustomization"}


def documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(K8S.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((str(path.relative_to(K8S)), doc))
    return found


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in documents() if doc["kind"] == kind}


def pod_specs() -> dict[str, dict[str, Any]]:
    workloads = {**by_kind("Deployment"), **{f"job/{n}": d for n, d in by_kind("Job").items()}}
    return {name: doc["spec"]["template"]["spec"] for name, doc in workloads.items()}


def validator() -> Any:
    try:
        import kubernetes_validate
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("kubernetes-validate is not installed (pip install -r requirements-dev.txt); CI always runs this")
    return kubernetes_validate


@pytest.mark.parametrize("name, doc", [d for d in documents() if d[1]["kind"] not in CUSTOM],
                         ids=lambda value: value if isinstance(value, str) else "")
def test_every_manifest_passes_the_kubernetes_schema_strictly(name, doc):
    kv = validator()
    try:
        kv.validate(doc, KUBERNETES, strict=True)
    except kv.ValidationError as exc:
        pytest.fail(f"{name} {doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_kustomizations_list_every_manifest_and_nothing_else():
    base = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(base) == on_disk
    overlay = yaml.safe_load((K8S / "keda" / "kustomization.yaml").read_text())["resources"]
    assert overlay == ["../", "scaledobject.yaml"]


def test_web_probes_autoscaler_and_disruption_budget():
    web = by_kind("Deployment")["web"]
    container = next(c for c in web["spec"]["template"]["spec"]["containers"] if c["name"] == "web")
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert "replicas" not in web["spec"]  # the HPA owns the count
    hpa = by_kind("HorizontalPodAutoscaler")["web"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "web" and hpa["spec"]["minReplicas"] >= 2
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    pdb = by_kind("PodDisruptionBudget")["web"]
    assert pdb["spec"]["selector"]["matchLabels"] == web["spec"]["selector"]["matchLabels"]


def test_beat_is_one_replica_and_migrations_are_a_job():
    beat = by_kind("Deployment")["beat"]
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    job = by_kind("Job")["migrate"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][-2:] == ["migrate", "--noinput"]


def test_workers_scale_on_the_celery_queue_with_keda():
    scaled = by_kind("ScaledObject")["worker"]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    target = scaled["spec"]["scaleTargetRef"]
    assert target["kind"] == "Deployment" and target["name"] in by_kind("Deployment")
    assert "replicas" not in by_kind("Deployment")["worker"]["spec"]  # KEDA owns the count
    [trigger] = scaled["spec"]["triggers"]
    # The list KEDA measures is the queue the workers consume (settings' default outside tests).
    assert trigger["type"] == "redis" and trigger["metadata"]["listName"] == "modelyard"
    assert int(trigger["metadata"]["listLength"]) > 0
    assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]
    auth = by_kind("TriggerAuthentication")[trigger["authenticationRef"]["name"]]
    example = next(yaml.safe_load_all((K8S / "secret.example.yaml").read_text()))
    for ref in auth["spec"]["secretTargetRef"]:
        assert ref["name"] == example["metadata"]["name"] and ref["key"] in example["stringData"]


def test_ingress_terminates_tls_and_redirects():
    for ingress in by_kind("Ingress").values():
        hosts = {host for tls in ingress["spec"]["tls"] for host in tls["hosts"]}
        assert {rule["host"] for rule in ingress["spec"]["rules"]} <= hosts
    main = by_kind("Ingress")["modelyard"]
    assert main["metadata"]["annotations"]["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"


@pytest.mark.parametrize("name", sorted(pod_specs()))
def test_no_pod_runs_as_root_or_writes_its_root_filesystem(name):
    spec = pod_specs()[name]
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
    assert spec.get("automountServiceAccountToken") is False
    for container in spec["containers"] + spec.get("initContainers", []):
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["limits"]["memory"]


def test_the_artifact_cache_is_local_and_keys_are_a_mounted_secret():
    config = by_kind("ConfigMap")["modelyard-config"]["data"]
    for name in ("web", "worker"):
        spec = pod_specs()[name]
        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {m["mountPath"]: m["name"] for c in spec["containers"] for m in c["volumeMounts"]}
        assert "emptyDir" in volumes[mounts[config["MODELYARD_ARTIFACT_CACHE_DIR"]]]
        keys = volumes[mounts["/run/secrets/modelyard"]]["secret"]
        assert keys["secretName"] == "modelyard-artifact-keys" and keys["optional"] is True
    assert config["MODELYARD_LOG_FORMAT"] == "json"
