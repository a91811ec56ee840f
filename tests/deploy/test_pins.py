"""Pins are exactly what they say. model.env holds its four keys and nothing else: a line
appended to move the store (or the S3 endpoint) is refused by `angler promote` and `angler
fetch-model`, and even rendered it never reaches the init container, whose store comes from
the base. Every image that runs is listed, tag-pinned, and pinnable by digest as
k8s/README.md says (no digest is pinned here: the digests are the installer's)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from angler.deploy.serving import MODEL_ENV, PromotionError, promotion_from_config_map

from helpers.paths import REPO_ROOT

K8S = REPO_ROOT / "k8s"
OVERLAYS = sorted(path.parent.name for path in (K8S / "overlays").glob("*/kustomization.yaml"))
ANGLER = str(Path(sys.executable).with_name("angler"))
DIGEST = "sha256:" + "ab" * 32
ATTACKS = {
    "store": "ANGLER_MODEL_STORE=s3://evil/",
    "endpoint": "AWS_ENDPOINT_URL=https://evil.example",
    "second pin": f"ANGLER_MODEL_DIGEST={DIGEST}",
    "empty canary": "ANGLER_CANARY_VERSION=",
    "bad digest": "ANGLER_CANARY_VERSION=8\nANGLER_CANARY_DIGEST=sha256:evil",
    "bad version": f"ANGLER_CANARY_VERSION=8.0\nANGLER_CANARY_DIGEST={DIGEST}",
}
REFUSALS = {
    "store": "unknown key 'ANGLER_MODEL_STORE'",
    "endpoint": "unknown key 'AWS_ENDPOINT_URL'",
    "second pin": "ANGLER_MODEL_DIGEST given twice",
    "empty canary": "ANGLER_CANARY_VERSION is empty",
    "bad digest": "ANGLER_CANARY_DIGEST must be sha256:<64 hex digits>",
    "bad version": "ANGLER_CANARY_VERSION must be a positive integer",
}
IMAGE = re.compile(r"[a-z0-9][a-z0-9./-]*:[A-Za-z0-9][A-Za-z0-9._-]*(@sha256:[0-9a-f]{64})?")
needs_kubectl = pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed")


def angler(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([ANGLER, *args], cwd=cwd, capture_output=True, text=True, env=env)


def one_line_error(result: subprocess.CompletedProcess, command: str, reason: str) -> None:
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"angler {command}: error: ") and reason in line, line


def tampered(tmp_path: Path, attack: str) -> Path:
    """A copy of k8s/ whose overlays' model.env files have the attack appended."""
    root = tmp_path / "repo"
    shutil.copytree(K8S, root / "k8s")
    for env in OVERLAYS:
        with (root / "k8s" / "overlays" / env / MODEL_ENV).open("a") as model_env:
            model_env.write(ATTACKS[attack] + "\n")
    return root


def exported(root: Path) -> Path:
    """An export stage's output folder (never read: the promotion file is refused first)."""
    folder = root / "export"
    (folder / "9").mkdir(parents=True)
    (folder / "9" / "saved_model.pb").write_bytes(b"graph")
    (folder / "model.json").write_text(json.dumps({"version": 9, "digest": DIGEST}))
    return folder


@pytest.mark.parametrize(
    ("attack", "env"), [(attack, "production") for attack in ATTACKS] + [("store", "staging")]
)
def test_promote_refuses_a_tampered_model_env_before_publishing(tmp_path, attack, env):
    root = tampered(tmp_path, attack)
    model_env = root / "k8s" / "overlays" / env / MODEL_ENV
    before = model_env.read_text()
    store = root / "store"
    model = str(exported(root))
    result = angler(
        root, "promote", "--env", env, "--local-only", "--model", model, "--store", str(store)
    )
    one_line_error(result, "promote", REFUSALS[attack])
    assert model_env.read_text() == before
    assert not store.exists()  # nothing published


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_fetch_model_refuses_a_tampered_model_env_before_fetching(tmp_path, attack):
    root = tampered(tmp_path, attack)
    out, config = root / "models", root / "models.config"
    result = angler(
        root,
        "fetch-model",
        *("--out", str(out), "--config", str(config), "--store", str(root / "store")),
        *("--promotion", str(root / "k8s" / "overlays" / OVERLAYS[0] / MODEL_ENV)),
    )
    one_line_error(result, "fetch-model", REFUSALS[attack])
    assert not out.exists() and not config.exists()


@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ({"ANGLER_MODEL_DIGEST": "sha256:evil"}, "ANGLER_MODEL_DIGEST must be sha256"),
        ({"ANGLER_MODEL_VERSION": "7; rm -rf /"}, "ANGLER_MODEL_VERSION must be a positive"),
        ({"ANGLER_CANARY_VERSION": "8"}, "ANGLER_CANARY_VERSION without ANGLER_CANARY_DIGEST"),
    ],
)
def test_fetch_model_refuses_malformed_pins_in_its_environment(tmp_path, variables, reason):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ANGLER_")},
        "ANGLER_MODEL_VERSION": "7",
        "ANGLER_MODEL_DIGEST": DIGEST,
        **variables,
    }
    out = tmp_path / "models"
    args = ["--out", str(out), "--config", str(tmp_path / "c"), "--store", str(tmp_path / "s")]
    one_line_error(angler(tmp_path, "fetch-model", *args, env=env), "fetch-model", reason)
    assert not out.exists()


def kustomize(path: Path) -> list[dict]:
    result = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def pod_specs(objects: list[dict]) -> list[dict]:
    return [o["spec"]["template"]["spec"] for o in objects if o["kind"] == "Deployment"]


def base_store() -> str:
    deployment = yaml.safe_load((K8S / "base" / "deployment.yaml").read_text())
    (init,) = deployment["spec"]["template"]["spec"]["initContainers"]
    (store,) = [var for var in init["env"] if var["name"] == "ANGLER_MODEL_STORE"]
    return store["value"]


@needs_kubectl
@pytest.mark.parametrize("attack", ["store", "endpoint"])
@pytest.mark.parametrize("env", OVERLAYS)
def test_a_rendered_extra_key_never_reaches_the_init_container(tmp_path, attack, env):
    objects = kustomize(tampered(tmp_path, attack) / "k8s" / "overlays" / env)
    (config,) = [o for o in objects if o["metadata"]["name"].startswith("angler-model-")]
    with pytest.raises(PromotionError, match="unknown key"):  # the manifest check refuses it
        promotion_from_config_map(config["data"], config["metadata"]["name"])
    (spec,) = pod_specs(objects)
    for container in spec["initContainers"] + spec["containers"]:
        assert "envFrom" not in container
        names = [var["name"] for var in container.get("env", [])]
        assert "AWS_ENDPOINT_URL" not in names and len(names) == len(set(names))
    (init,) = spec["initContainers"]
    (store,) = [var for var in init["env"] if var["name"] == "ANGLER_MODEL_STORE"]
    assert store == {"name": "ANGLER_MODEL_STORE", "value": base_store()}
    assert "evil" not in yaml.safe_dump(spec)


def running_images() -> set[str]:
    """Every image the serving overlays and the Argo Workflows template run."""
    images = set()
    for env in OVERLAYS:
        for spec in pod_specs(kustomize(K8S / "overlays" / env)):
            images |= {c["image"] for c in spec.get("initContainers", []) + spec["containers"]}
    argo = yaml.safe_load((REPO_ROOT / "pipeline" / "argo" / "workflow-template.yaml").read_text())
    for template in argo["spec"]["templates"]:
        for kind in ("container", "script"):
            if kind in template:
                images.add(template[kind]["image"])
    return images


def readme_section(title: str) -> str:
    text = (K8S / "README.md").read_text()
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


@needs_kubectl
def test_every_running_image_is_tag_pinned_and_listed_in_the_readme():
    images = running_images()
    assert images, "no images found"
    for image in images:
        assert IMAGE.fullmatch(image), image
        assert image.split("@")[0].rpartition(":")[2] != "latest", image
    listed = set(re.findall(r"^- `([^`]+)`", readme_section("Pinning images by digest"), re.M))
    assert listed == images, "k8s/README.md's image list is not what runs"


@needs_kubectl
def test_the_readme_digest_pinning_renders_tag_and_digest(tmp_path):
    """The `images:` block k8s/README.md documents, with a stand-in digest, pins every
    serving image of every overlay by digest and keeps its tag."""
    (block,) = re.findall(r"```yaml\n(.*?)```", readme_section("Pinning images by digest"), re.S)
    stand_in = "sha256:" + "0" * 64  # a test value, not any image's digest
    shutil.copytree(K8S, tmp_path / "k8s")
    with (tmp_path / "k8s" / "base" / "kustomization.yaml").open("a") as kustomization:
        kustomization.write(block.replace("sha256:<digest>", stand_in))
    for env in OVERLAYS:
        before = pod_specs(kustomize(K8S / "overlays" / env))
        after = pod_specs(kustomize(tmp_path / "k8s" / "overlays" / env))
        for old, new in zip(before, after, strict=True):
            for key in ("initContainers", "containers"):
                for was, now in zip(old.get(key, []), new.get(key, []), strict=True):
                    assert now["image"] == f"{was['image']}@{stand_in}"
