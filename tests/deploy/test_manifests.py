"""Every overlay renders with kustomize, validates offline against the Kubernetes schemas,
and follows the serving policies; the Argo CD objects are checked field by field."""

import copy
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml

from angler.deploy.serving import MODEL_ENV, PIN_KEYS, promotion_from_config_map, read_promotion

from helpers.paths import REPO_ROOT

K8S = REPO_ROOT / "k8s"
OVERLAYS = sorted(path.parent.name for path in (K8S / "overlays").glob("*/kustomization.yaml"))
SERVING_KINDS = {
    "Namespace",
    "ServiceAccount",
    "ConfigMap",
    "Service",
    "Deployment",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "NetworkPolicy",
}
KUBERNETES_VERSION = "1.32.0"
pytestmark = pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed")


def kustomize(path) -> list[dict]:
    result = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request) -> tuple[str, list[dict]]:
    return request.param, kustomize(K8S / "overlays" / request.param)


def one(objects: list[dict], kind: str, name_prefix: str = "angler-serving") -> dict:
    (found,) = [
        o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(name_prefix)
    ]
    return found


def pod_spec(objects):
    return one(objects, "Deployment")["spec"]["template"]["spec"]


def test_there_are_staging_and_production_overlays():
    assert set(OVERLAYS) >= {"staging", "production"}


def test_overlay_renders_every_serving_object_in_its_namespace(overlay):
    env, objects = overlay
    assert {o["kind"] for o in objects} == SERVING_KINDS
    namespaced = [o for o in objects if o["kind"] != "Namespace"]
    assert {o["metadata"]["namespace"] for o in namespaced} == {f"angler-{env}"}


def test_rendered_objects_validate_against_the_kubernetes_schemas(overlay):
    for document in overlay[1]:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_validation_rejects_a_broken_object(overlay):
    deployment = copy.deepcopy(one(overlay[1], "Deployment"))  # the fixture is shared
    deployment["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_pods_run_as_non_root_with_a_read_only_filesystem_and_limits(overlay):
    spec = pod_spec(overlay[1])
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["automountServiceAccountToken"] is False
    for container in spec["initContainers"] + spec["containers"]:
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}


def test_serving_waits_for_the_pinned_version(overlay):
    (serving,) = pod_spec(overlay[1])["containers"]
    assert serving["readinessProbe"]["httpGet"]["path"] == "/v1/models/angler/labels/stable"
    assert serving["startupProbe"]["httpGet"]["path"] == "/v1/models/angler/labels/stable"
    assert "livenessProbe" in serving
    args = serving["args"]
    assert "--model_config_file=/config/models.config" in args
    assert any(arg.startswith("--model_config_file_poll_wait_seconds=") for arg in args)
    assert {p["name"]: p["containerPort"] for p in serving["ports"]} == {"grpc": 8500, "http": 8501}


def test_the_model_config_map_carries_the_promoted_version_and_nothing_else(overlay):
    env, objects = overlay
    pinned = read_promotion(K8S / "overlays" / env / MODEL_ENV)
    config = one(objects, "ConfigMap", "angler-model-")
    assert set(config["data"]) <= set(PIN_KEYS)
    assert promotion_from_config_map(config["data"], config["metadata"]["name"]) == pinned
    assert config["data"]["ANGLER_MODEL_VERSION"] == str(pinned.stable.version)
    assert config["data"]["ANGLER_MODEL_DIGEST"] == pinned.stable.digest


def test_the_init_container_takes_the_four_pins_by_name_and_the_store_from_the_base(overlay):
    name, objects = overlay
    config = one(objects, "ConfigMap", "angler-model-")["metadata"]["name"]
    spec = pod_spec(objects)
    assert all("envFrom" not in c for c in spec["initContainers"] + spec["containers"])
    (init,) = spec["initContainers"]
    env = {var["name"]: var for var in init["env"]}
    assert set(env) == {"ANGLER_MODEL_STORE", "ANGLER_ENV", *PIN_KEYS}
    # fetch-model checks the pins against the ledger of this overlay's environment
    assert env["ANGLER_ENV"] == {"name": "ANGLER_ENV", "value": name}
    assert env["ANGLER_MODEL_STORE"] == {
        "name": "ANGLER_MODEL_STORE",
        "value": "s3://angler-models/angler",
    }
    for key in PIN_KEYS:
        ref = env[key]["valueFrom"]["configMapKeyRef"]
        assert (ref["name"], ref["key"]) == (config, key)
        assert ref.get("optional", False) == key.startswith("ANGLER_CANARY_")


def test_the_autoscaler_alone_sets_the_replica_count(overlay):
    objects = overlay[1]
    autoscalers = [o for o in objects if o["kind"] == "HorizontalPodAutoscaler"]
    assert autoscalers
    for autoscaler in autoscalers:
        target = autoscaler["spec"]["scaleTargetRef"]
        (scaled,) = [
            o
            for o in objects
            if (o["kind"], o["metadata"]["name"]) == (target["kind"], target["name"])
        ]
        assert "replicas" not in scaled["spec"], "Argo CD self-heal would fight the HPA"
        assert 1 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"]
    budget = one(objects, "PodDisruptionBudget")["spec"]["minAvailable"]
    assert budget < one(objects, "HorizontalPodAutoscaler")["spec"]["minReplicas"]


def test_config_maps_sync_before_the_deployment(overlay):
    objects = overlay[1]

    def wave(o):
        return int(o["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", 0))

    deployment = one(objects, "Deployment")
    assert all(
        wave(o) < wave(deployment) for o in objects if o["kind"] in ("ConfigMap", "Namespace")
    )


def test_selectors_match_the_pods(overlay):
    objects = overlay[1]
    labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    selectors = [
        one(objects, "Service")["spec"]["selector"],
        one(objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
        one(objects, "NetworkPolicy")["spec"]["podSelector"]["matchLabels"],
    ]
    for selector in selectors:
        assert selector and selector.items() <= labels.items()
    target = one(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "angler-serving")


def test_argocd_project_is_narrow_and_applications_sync_each_overlay():
    objects = {(o["kind"], o["metadata"]["name"]): o for o in kustomize(K8S / "argocd")}
    project = objects[("AppProject", "angler")]["spec"]
    assert "*" not in yaml.safe_dump(project)
    rendered_kinds = {o["kind"] for env in OVERLAYS for o in kustomize(K8S / "overlays" / env)}
    allowed = {
        k["kind"]
        for k in project["namespaceResourceWhitelist"] + project["clusterResourceWhitelist"]
    }
    assert allowed == rendered_kinds
    applications = [o for (kind, _), o in objects.items() if kind == "Application"]
    assert sorted(a["spec"]["source"]["path"] for a in applications) == [
        f"k8s/overlays/{env}" for env in OVERLAYS
    ]
    for application in applications:
        spec = application["spec"]
        assert spec["project"] == "angler" != "default"
        assert spec["source"]["repoURL"] in project["sourceRepos"]
        assert spec["destination"] in project["destinations"]
        assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
        assert spec["source"]["targetRevision"] == "main"


REPLICAS = {"staging": (1, 2), "production": (3, 12)}  # k8s/README.md's layout


def test_the_rendered_overlays_keep_what_the_k8s_readme_promises(overlay):
    """Replicas per overlay, rolling updates that never drop a serving pod, the network
    policy's ports and peers, and the sync waves that put the namespace and config first."""
    name, objects = overlay
    autoscaler = one(objects, "HorizontalPodAutoscaler")["spec"]
    assert (autoscaler["minReplicas"], autoscaler["maxReplicas"]) == REPLICAS[name]
    strategy = one(objects, "Deployment")["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate" and strategy["rollingUpdate"]["maxUnavailable"] == 0
    policy = one(objects, "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = policy["ingress"]
    assert ingress["from"] == [
        {"podSelector": {}},
        {"namespaceSelector": {"matchLabels": {"angler.io/client": "true"}}},
    ]
    assert sorted((p["port"], p["protocol"]) for p in ingress["ports"]) == [
        (8500, "TCP"),
        (8501, "TCP"),
    ]
    egress = sorted((p["port"], p["protocol"]) for rule in policy["egress"] for p in rule["ports"])
    assert egress == [(53, "TCP"), (53, "UDP"), (443, "TCP")]  # DNS and HTTPS, nothing else
    assert all("to" not in rule for rule in policy["egress"])  # by port only, as documented

    def wave(o):
        return o["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave")

    assert {wave(o) for o in objects if o["kind"] == "Namespace"} == {"-2"}
    assert {wave(o) for o in objects if o["kind"] == "ConfigMap"} == {"-1"}
    assert wave(one(objects, "Deployment")) is None  # wave 0, after both
