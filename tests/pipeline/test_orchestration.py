"""The orchestrators run the dvc.yaml graph: the same stage names and edges as DVC's own
graph, and the committed Argo Workflows YAML is what its hera source renders now."""

import importlib.util

import pytest
import yaml
from dvc.repo import Repo

from angler.orchestration import GPU_STAGES, stage_graph, stage_script

from helpers.paths import REPO_ROOT

ARGO = REPO_ROOT / "pipeline" / "argo"


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


def test_argo_dag_has_the_dvc_stages_and_edges(template):
    (dag,) = [t["dag"] for t in template["spec"]["templates"] if "dag" in t]
    tasks = {task["name"]: task for task in dag["tasks"]}
    graph = dvc_graph()
    assert list(tasks) == list(stage_graph(REPO_ROOT / "dvc.yaml"))
    for name, task in tasks.items():
        depends = set(task["depends"].split(" && ")) if "depends" in task else set()
        assert depends == graph[name]
        assert task["arguments"]["parameters"] == [{"name": "stage", "value": name}]


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


def test_tasks_run_the_orchestration_stage_script(template):
    for spec in template["spec"]["templates"]:
        if "container" in spec:
            assert spec["container"]["args"] == [stage_script("{{inputs.parameters.stage}}")]
    assert "dvc repro train\n" in stage_script("train")


def test_committed_yaml_is_what_the_hera_source_renders():
    for name, text in argo_source().render().items():
        assert (ARGO / name).read_text() == text, f"pipeline/argo/{name} is stale: run `make argo`"


def test_cron_workflow_runs_the_template():
    cron = yaml.safe_load((ARGO / "cron-workflow.yaml").read_text())
    assert cron["spec"]["workflowSpec"]["workflowTemplateRef"]["name"] == "angler-pipeline"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
