"""The orchestrators run the dvc.yaml graph: the same stage names and edges as DVC's own
graph, and the committed Argo Workflows YAML is what its hera source renders now. A stage
name never becomes shell code, Argo's stage pods run restricted, under their own service
account and without a token, one run trains one pinned commit, and tasks sharing a
checkout take turns with DVC."""

import importlib.util
import os
import re
import stat
import subprocess
import time

import kubernetes_validate
import pytest
import yaml
from dvc.repo import Repo

from angler.orchestration import (
    CHECKOUT_LOCK,
    GPU_STAGES,
    StageError,
    pin_commit_script,
    stage_argument_script,
    stage_graph,
    stage_names,
    stage_script,
)

from helpers.git_repo import git
from helpers.paths import REPO_ROOT

ARGO = REPO_ROOT / "pipeline" / "argo"
HOSTILE = [
    "train; touch pwned",
    "train && touch pwned",
    "$(touch pwned)",
    "`touch pwned`",
    "train\ntouch pwned",
    "train' ; touch pwned; '",
    "--force",
    "",
]


def dvc_graph() -> dict[str, set[str]]:
    graph = Repo(str(REPO_ROOT)).index.graph
    edges = {stage.name: set() for stage in graph.nodes}
    for stage, upstream in graph.edges:
        edges[stage.name].add(upstream.name)
    return edges


def argo_source():
    spec = importlib.util.spec_from_file_location("angler_pipeline", ARGO / "angler_pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def template() -> dict:
    return yaml.safe_load((ARGO / "workflow-template.yaml").read_text())


def test_stage_graph_is_dvcs_graph():
    assert {
        stage: set(up) for stage, up in stage_graph(REPO_ROOT / "dvc.yaml").items()
    } == dvc_graph()


def test_argo_dag_pins_the_commit_then_has_the_dvc_stages_and_edges(template):
    (dag,) = [t["dag"] for t in template["spec"]["templates"] if "dag" in t]
    tasks = {task["name"]: task for task in dag["tasks"]}
    graph = dvc_graph()
    assert list(tasks) == ["pin-commit", *stage_graph(REPO_ROOT / "dvc.yaml")]
    assert "depends" not in tasks.pop("pin-commit")
    for name, task in tasks.items():
        depends = set(task["depends"].split(" && "))
        assert depends == (graph[name] or {"pin-commit"})
        assert task["arguments"]["parameters"] == [
            {"name": "stage", "value": name},
            {"name": "commit", "value": "{{tasks.pin-commit.outputs.parameters.commit}}"},
        ]


def test_train_runs_on_a_gpu_node_and_every_task_retries_with_a_deadline(template):
    templates = {t["name"]: t for t in template["spec"]["templates"]}
    (dag,) = [t["dag"] for t in templates.values() if "dag" in t]
    for task in dag["tasks"]:
        spec = templates[task["template"]]
        assert int(spec["retryStrategy"]["limit"]) >= 1 and spec["activeDeadlineSeconds"] > 0
        if task["name"] in GPU_STAGES:
            assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
            assert spec["container"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
        else:
            assert "nvidia.com/gpu" not in spec["container"]["resources"]["limits"]


def pod_templates(template) -> list[dict]:
    return [t for t in template["spec"]["templates"] if "container" in t or "script" in t]


def stage_templates(template) -> list[dict]:
    return [t for t in pod_templates(template) if t["name"] != "pin-commit"]


def test_tasks_run_the_orchestration_stage_script_with_the_stage_as_an_argument(template):
    assert len(stage_templates(template)) == 3
    for spec in stage_templates(template):
        container = spec["container"]
        assert container["command"] == ["bash", "-c", stage_argument_script(), "angler-stage"]
        assert container["args"] == ["{{inputs.parameters.stage}}"]
        # The pinned commit: what the pod checks out and what the script checks it against.
        (artifact,) = spec["inputs"]["artifacts"]
        assert artifact["git"]["revision"] == "{{inputs.parameters.commit}}"
        assert {"name": "ANGLER_COMMIT", "value": "{{inputs.parameters.commit}}"} in container[
            "env"
        ]
    assert "dvc repro train\n" in stage_script("train")


def test_pin_commit_runs_the_fixed_script_with_repository_and_revision_as_arguments(template):
    (spec,) = [t for t in pod_templates(template) if t["name"] == "pin-commit"]
    container = spec["container"]
    assert container["command"] == ["bash", "-c", pin_commit_script(), "angler-pin"]
    output = container["args"][2]
    assert container["args"] == [
        "{{workflow.parameters.repository}}",
        "{{workflow.parameters.revision}}",
        output,
    ]
    (parameter,) = spec["outputs"]["parameters"]
    assert parameter == {"name": "commit", "valueFrom": {"path": output}}
    assert output.startswith("/tmp/")  # an emptyDir: the root filesystem is read-only


def test_no_argo_expression_is_spliced_into_a_shell_string(template):
    whole = re.compile(r"\{\{(inputs|workflow)\.parameters\.[a-z-]+\}\}")
    for spec in template["spec"]["templates"]:
        for container in [spec.get("container") or {}, spec.get("script") or {}]:
            for text in [container.get("source", "")] + container.get("command", []):
                assert "{{" not in text, f"{spec['name']}: {text!r}"
            for arg in container.get("args", []):
                assert "{{" not in arg or whole.fullmatch(arg), f"{spec['name']}: {arg!r}"


def test_stage_pods_run_restricted_under_their_own_account_without_a_token(template):
    source = argo_source()
    for spec in [template["spec"], *pod_templates(template)]:
        assert spec["serviceAccountName"] == source.SERVICE_ACCOUNT != "default"
        assert spec["automountServiceAccountToken"] is False
        assert spec["executor"]["serviceAccountName"] == source.EXECUTOR_SERVICE_ACCOUNT
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    for spec in pod_templates(template):
        security = spec["container"]["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] != 0
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}
        # With a read-only root, what a stage writes goes to emptyDirs (and the checkout,
        # Argo's input-artifact volume).
        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in spec["container"]["volumeMounts"]}
        assert {"/tmp", "/var/tmp", source.HOME} <= set(mounts)
        assert all("emptyDir" in volumes[name] for name in mounts.values())
    for spec in stage_templates(template):
        assert [a["path"] for a in spec["inputs"]["artifacts"]] == [spec["container"]["workingDir"]]


def test_the_service_accounts_are_declared_and_only_the_executor_may_do_anything():
    source = argo_source()
    documents = list(yaml.safe_load_all((ARGO / "service-accounts.yaml").read_text()))
    for document in documents:
        kubernetes_validate.validate(document, "1.32.0", strict=True)
    objects = {(d["kind"], d["metadata"]["name"]): d for d in documents}
    for name in (source.SERVICE_ACCOUNT, source.EXECUTOR_SERVICE_ACCOUNT):
        account = objects[("ServiceAccount", name)]
        assert account["automountServiceAccountToken"] is False
        assert account["metadata"]["namespace"] == source.NAMESPACE
    bindings = [d for d in documents if d["kind"] in ("RoleBinding", "ClusterRoleBinding")]
    subjects = [s["name"] for binding in bindings for s in binding["subjects"]]
    assert subjects == [source.EXECUTOR_SERVICE_ACCOUNT]  # the stages' account: nothing
    (binding,) = bindings
    role = objects[(binding["roleRef"]["kind"], binding["roleRef"]["name"])]
    assert role["rules"] == [
        {
            "apiGroups": ["argoproj.io"],
            "resources": ["workflowtaskresults"],
            "verbs": ["create", "patch"],
        }
    ]
    token = objects[("Secret", f"{source.EXECUTOR_SERVICE_ACCOUNT}.service-account-token")]
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": source.EXECUTOR_SERVICE_ACCOUNT
    }


@pytest.mark.parametrize("stage", HOSTILE)
def test_a_stage_name_not_in_dvc_yaml_is_refused(stage):
    with pytest.raises(StageError, match="unknown stage"):
        stage_script(stage)


def fake_dvc(tmp_path):
    """A `dvc` on PATH that only records its arguments, one call per line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    dvc = bin_dir / "dvc"
    dvc.write_text('#!/bin/sh\nprintf "%s|" "$@" >> "$DVC_CALLS"\necho >> "$DVC_CALLS"\n')
    dvc.chmod(dvc.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env["DVC_CALLS"] = str(tmp_path / "calls")
    for name in ("DVC_REMOTE_URL", "ANGLER_COMMIT"):
        env.pop(name, None)
    return env, tmp_path / "calls"


def run_bash(tmp_path, *argv: str, **env: str) -> tuple[int, list[str]]:
    fake_env, calls = fake_dvc(tmp_path)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    result = subprocess.run(
        ["bash", "-c", *argv], cwd=work, env=fake_env | env, capture_output=True
    )
    assert not (work / "pwned").exists() and not (tmp_path / "pwned").exists()
    return result.returncode, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.parametrize("stage", HOSTILE)
def test_the_argo_script_runs_no_hostile_stage_argument(tmp_path, stage):
    returncode, calls = run_bash(tmp_path, stage_argument_script(), "angler-stage", stage)
    assert (returncode, calls) == (2, [])


def test_the_argo_script_runs_a_dvc_stage_given_as_its_argument(tmp_path):
    returncode, calls = run_bash(tmp_path, stage_argument_script(), "angler-stage", "train")
    assert returncode == 0
    assert calls == [
        "pull|--run-cache|--allow-missing|--force|",
        "repro|train|",
        "push|--run-cache|",
    ]
    case = stage_argument_script().splitlines()[2].strip()
    assert case == "|".join(stage_names()) + ") ;;"


def test_a_stage_name_is_quoted_in_the_script(tmp_path):
    dvc_yaml = tmp_path / "dvc.yaml"
    odd = "odd name; touch pwned"
    dvc_yaml.write_text(yaml.safe_dump({"stages": {odd: {"cmd": "true"}}}))
    returncode, calls = run_bash(tmp_path, stage_script(odd, dvc_yaml))
    assert (returncode, calls[1]) == (0, f"repro|{odd}|")
    returncode, calls = run_bash(tmp_path, stage_argument_script(dvc_yaml), "angler-stage", odd)
    assert (returncode, calls[-2]) == (0, f"repro|{odd}|")


def commit_in(work) -> str:
    work.mkdir(exist_ok=True)
    git(work, "init", "-q", "-b", "main")
    git(work, "commit", "-q", "--allow-empty", "-m", "one")
    return git(work, "rev-parse", "HEAD")


def test_the_script_refuses_a_checkout_at_another_commit_than_the_runs(tmp_path):
    head = commit_in(tmp_path / "work")
    script = stage_script("train")
    assert run_bash(tmp_path, script, ANGLER_COMMIT=head)[0] == 0
    returncode, calls = run_bash(tmp_path, script, ANGLER_COMMIT="0" * 40)
    assert returncode == 3 and len(calls) == 3  # nothing more than the run with the commit


def test_tasks_in_one_checkout_run_dvc_one_at_a_time(tmp_path):
    """Three tasks at once in one checkout (evaluate, export and monitor after train): DVC
    would refuse all but one ("is busy"), so the script waits for the checkout's lock."""
    env, calls = fake_dvc(tmp_path)
    slow_dvc = tmp_path / "bin" / "dvc"
    slow_dvc.write_text(
        '#!/bin/sh\necho "start $*" >> "$DVC_CALLS"\nsleep 0.3\necho "end $*" >> "$DVC_CALLS"\n'
    )
    work = tmp_path / "work"
    work.mkdir()
    started = time.monotonic()  # before the first task starts: it may run at once
    tasks = [
        subprocess.Popen(["bash", "-c", stage_script(stage)], cwd=work, env=env)
        for stage in ("evaluate", "export", "monitor")
    ]
    assert [task.wait(30) for task in tasks] == [0, 0, 0]
    assert time.monotonic() - started >= 3 * 3 * 0.3
    lines = calls.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["start", "end"] * 9  # never two at once
    assert (work / CHECKOUT_LOCK).exists()


def test_the_pin_script_resolves_a_revision_to_its_commit_once(tmp_path):
    repo = tmp_path / "repo"
    head = commit_in(repo)
    git(repo, "tag", "v1")
    out = tmp_path / "commit"
    for revision in ("main", "v1", head):
        pin = ["bash", "-c", pin_commit_script(), "angler-pin", str(repo), revision, str(out)]
        subprocess.run(pin, check=True, capture_output=True)
        assert out.read_text().strip() == head
    for hostile in ("--output=pwned", "main; touch pwned", "", "no-such-branch"):
        pin = ["bash", "-c", pin_commit_script(), "angler-pin", str(repo), hostile, str(out)]
        assert subprocess.run(pin, cwd=tmp_path, capture_output=True).returncode != 0
        assert not (tmp_path / "pwned").exists()


def test_committed_yaml_is_what_the_hera_source_renders():
    for name, text in argo_source().render().items():
        assert (ARGO / name).read_text() == text, f"pipeline/argo/{name} is stale: run `make argo`"


def test_cron_workflow_runs_the_template():
    cron = yaml.safe_load((ARGO / "cron-workflow.yaml").read_text())
    assert cron["spec"]["workflowSpec"]["workflowTemplateRef"]["name"] == "angler-pipeline"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
