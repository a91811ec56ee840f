"""The Argo Workflows side of the pipeline, written with hera: a WorkflowTemplate with one
task per dvc.yaml stage (same names, same edges) and a CronWorkflow for the schedule.

`make argo` renders it to the YAML files beside this one, which are what a cluster applies
(`kubectl apply -n argo -f pipeline/argo/`); a test checks they are up to date. Each task
checks out the repository at the `revision` parameter and runs the stage's command from
angler/orchestration.py, the one Airflow runs too. Where a task runs is set here once: Spark
stages ask for more CPU (and find a Spark master in the `angler-pipeline` ConfigMap, if
any), `train` asks for a GPU node.
"""

from __future__ import annotations

from pathlib import Path

from hera.workflows import DAG, Container, CronWorkflow, WorkflowTemplate
from hera.workflows import models as m

from angler.orchestration import GPU_STAGES, SPARK_STAGES, stage_graph, stage_script

ROOT = Path(__file__).resolve().parents[2]

IMAGE = "ghcr.io/angler-ml/angler:0.1.0"
GPU_IMAGE = "ghcr.io/angler-ml/angler:0.1.0-gpu"
REPOSITORY = "https://github.com/angler-ml/angler.git"
NAMESPACE = "argo"
SCHEDULE = "0 3 * * 1"  # Mondays 03:00: weekly retraining on the freshest labels
CHECKOUT = "/work/angler"


def stage_template(name: str, image: str, requests: dict, limits: dict, **placement) -> Container:
    return Container(
        name=name,
        image=image,
        command=["bash", "-c"],
        args=[stage_script("{{inputs.parameters.stage}}")],
        working_dir=CHECKOUT,
        inputs=[
            m.Parameter(name="stage"),
            m.Artifact(
                name="repository",
                path=CHECKOUT,
                git=m.GitArtifact(
                    repo="{{workflow.parameters.repository}}",
                    revision="{{workflow.parameters.revision}}",
                ),
            ),
        ],
        env_from=[
            m.EnvFromSource(
                config_map_ref=m.ConfigMapEnvSource(name="angler-pipeline", optional=True)
            ),
            m.EnvFromSource(secret_ref=m.SecretEnvSource(name="angler-pipeline", optional=True)),
        ],
        resources=m.ResourceRequirements(requests=requests, limits=limits),
        security_context=m.SecurityContext(
            run_as_non_root=True, run_as_user=10001, allow_privilege_escalation=False
        ),
        retry_strategy=m.RetryStrategy(
            limit="2", retry_policy="OnError", backoff=m.Backoff(duration="30s", factor="2")
        ),
        active_deadline_seconds=4 * 3600,
        **placement,
    )


def build() -> tuple[WorkflowTemplate, CronWorkflow]:
    graph = stage_graph(ROOT / "dvc.yaml")
    arguments = m.Arguments(
        parameters=[
            m.Parameter(name="repository", value=REPOSITORY),
            m.Parameter(name="revision", value="main"),
        ]
    )
    with WorkflowTemplate(
        name="angler-pipeline", namespace=NAMESPACE, entrypoint="pipeline", arguments=arguments
    ) as template:
        templates = {
            "spark": stage_template(
                "spark-stage", IMAGE, {"cpu": "2", "memory": "6Gi"}, {"cpu": "4", "memory": "8Gi"}
            ),
            "gpu": stage_template(
                "gpu-stage",
                GPU_IMAGE,
                {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
                {"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "1"},
                node_selector={"nvidia.com/gpu.present": "true"},
                tolerations=[
                    m.Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")
                ],
            ),
            "default": stage_template(
                "stage", IMAGE, {"cpu": "1", "memory": "2Gi"}, {"cpu": "2", "memory": "4Gi"}
            ),
        }
        with DAG(name="pipeline"):
            tasks = {}
            for stage, upstream in graph.items():
                kind = (
                    "spark"
                    if stage in SPARK_STAGES
                    else "gpu"
                    if stage in GPU_STAGES
                    else "default"
                )
                tasks[stage] = templates[kind](name=stage, arguments={"stage": stage})
                for before in upstream:
                    tasks[before] >> tasks[stage]
    cron = CronWorkflow(
        name="angler-retrain",
        namespace=NAMESPACE,
        schedule=SCHEDULE,
        concurrency_policy="Forbid",
        workflow_template_ref=m.WorkflowTemplateRef(name="angler-pipeline"),
    )
    return template, cron


def render() -> dict[str, str]:
    template, cron = build()
    return {"workflow-template.yaml": template.to_yaml(), "cron-workflow.yaml": cron.to_yaml()}


if __name__ == "__main__":
    for name, text in render().items():
        (Path(__file__).parent / name).write_text(text, encoding="utf-8")
        print(f"wrote pipeline/argo/{name}")
