"""The Argo Workflows side of the pipeline, written with hera: a WorkflowTemplate with one
task per dvc.yaml stage (same names, same edges) and a CronWorkflow for the schedule.

`make argo` renders it to the YAML files beside this one, which are what a cluster applies
(`kubectl apply -n argo -f pipeline/argo/`); a test checks they are up to date. Each task
checks out the commit of the `revision` parameter and runs the stage's command from
angler/orchestration.py, the one Airflow runs too. Where a task runs is set here once: Spark
stages ask for more CPU (and find a Spark master in the `angler-pipeline` ConfigMap, if
any), `train` asks for a GPU node.

The stage reaches the shell only as an argument: the container runs the fixed script of
`stage_argument_script` as `bash -c <script> angler-stage <stage>`, and the script accepts
only the dvc.yaml stage names, so `{{inputs.parameters.stage}}` is never spliced into shell
code. Every stage pod runs under the restricted Pod Security Standard: non-root, no
privilege escalation, all capabilities dropped, seccomp RuntimeDefault and a read-only root
filesystem. What a stage writes goes to emptyDirs: the checkout (Argo's input-artifact
volume, mounted at CHECKOUT), /tmp (Spark, TensorFlow), /var/tmp (DVC's site cache) and the
home (tools' caches).

One run trains one commit: the `pin-commit` task resolves the `revision` parameter once
(the fixed script of `pin_commit_script`, with the repository and revision as arguments)
and every stage task gets that commit as its `commit` input: the revision of its git
artifact, and ANGLER_COMMIT, which the stage script checks. A branch that moves during the
run changes nothing.

Service accounts (service-accounts.yaml): the stage containers run as `angler-pipeline`,
which has no permissions and no token (`automountServiceAccountToken: false`): a stage needs
no Kubernetes API, only the DVC remote and MLflow, whose credentials come from the
`angler-pipeline` Secret. Argo's emissary executor does need one: its `wait` container
records each task's outputs as a WorkflowTaskResult (Argo >= 3.4). So the executor gets its
own account, `angler-pipeline-executor`, allowed only to create and patch
workflowtaskresults; Argo mounts that account's token (from the Secret
`angler-pipeline-executor.service-account-token`) into its own init and wait containers and
not into the stage's container.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hera.workflows import DAG, Container, CronWorkflow, EmptyDirVolume, Env, WorkflowTemplate
from hera.workflows import models as m

from angler.orchestration import (
    GPU_STAGES,
    SPARK_STAGES,
    pin_commit_script,
    stage_argument_script,
    stage_graph,
)

ROOT = Path(__file__).resolve().parents[2]

IMAGE = "ghcr.io/angler-ml/angler:0.1.0"
GPU_IMAGE = "ghcr.io/angler-ml/angler:0.1.0-gpu"
REPOSITORY = "https://github.com/angler-ml/angler.git"
NAMESPACE = "argo"
SCHEDULE = "0 3 * * 1"  # Mondays 03:00: weekly retraining on the freshest labels
CHECKOUT = "/work/angler"
PINNED = "/tmp/commit"  # pin-commit's output: the commit every stage checks out
USER = 10001  # the image's `angler` user (Dockerfile)
HOME = "/home/angler"
SERVICE_ACCOUNT = "angler-pipeline"
EXECUTOR_SERVICE_ACCOUNT = "angler-pipeline-executor"
RUNTIME_DEFAULT = m.SeccompProfile(type="RuntimeDefault")
POD_SECURITY = m.PodSecurityContext(
    run_as_non_root=True,
    run_as_user=USER,
    run_as_group=USER,
    fs_group=USER,
    seccomp_profile=RUNTIME_DEFAULT,
)
CONTAINER_SECURITY = m.SecurityContext(
    run_as_non_root=True,
    run_as_user=USER,
    run_as_group=USER,
    allow_privilege_escalation=False,
    read_only_root_filesystem=True,
    capabilities=m.Capabilities(drop=["ALL"]),
    seccomp_profile=RUNTIME_DEFAULT,
)


def pod_settings() -> dict:
    """What every pod template shares: its account, no token, the restricted security
    contexts, emptyDirs for what it writes, retries and a deadline. Set on each template,
    not only on the workflow, so that it holds wherever the template runs (a templateRef
    from another workflow too)."""
    return {
        "volumes": [
            EmptyDirVolume(name="tmp", mount_path="/tmp"),
            EmptyDirVolume(name="var-tmp", mount_path="/var/tmp", size_limit="1Gi"),
            EmptyDirVolume(name="home", mount_path=HOME, size_limit="1Gi"),
        ],
        "service_account_name": SERVICE_ACCOUNT,
        "automount_service_account_token": False,
        "executor": m.ExecutorConfig(service_account_name=EXECUTOR_SERVICE_ACCOUNT),
        "pod_security_context": POD_SECURITY,
        "security_context": CONTAINER_SECURITY,
        "retry_strategy": m.RetryStrategy(
            limit="2", retry_policy="OnError", backoff=m.Backoff(duration="30s", factor="2")
        ),
        "active_deadline_seconds": 4 * 3600,
    }


def pin_template() -> Container:
    """The commit the whole run trains, resolved once from the `revision` parameter."""
    return Container(
        name="pin-commit",
        image=IMAGE,
        # $1 the repository, $2 the revision, $3 the output file: arguments, not script.
        command=["bash", "-c", pin_commit_script(), "angler-pin"],
        args=["{{workflow.parameters.repository}}", "{{workflow.parameters.revision}}", PINNED],
        outputs=[m.Parameter(name="commit", value_from=m.ValueFrom(path=PINNED))],
        resources=m.ResourceRequirements(
            requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "1Gi"}
        ),
        **pod_settings(),
    )


def stage_template(name: str, image: str, requests: dict, limits: dict, **placement) -> Container:
    return Container(
        name=name,
        image=image,
        # $0 is "angler-stage", $1 the stage: an argument, never part of the script.
        command=["bash", "-c", stage_argument_script(ROOT / "dvc.yaml"), "angler-stage"],
        args=["{{inputs.parameters.stage}}"],
        working_dir=CHECKOUT,
        inputs=[
            m.Parameter(name="stage"),
            m.Parameter(name="commit"),
            m.Artifact(
                name="repository",
                path=CHECKOUT,
                git=m.GitArtifact(
                    repo="{{workflow.parameters.repository}}",
                    revision="{{inputs.parameters.commit}}",
                ),
            ),
        ],
        # The stage script refuses a checkout at any other commit.
        env=[Env(name="ANGLER_COMMIT", value="{{inputs.parameters.commit}}")],
        env_from=[
            m.EnvFromSource(
                config_map_ref=m.ConfigMapEnvSource(name="angler-pipeline", optional=True)
            ),
            m.EnvFromSource(secret_ref=m.SecretEnvSource(name="angler-pipeline", optional=True)),
        ],
        resources=m.ResourceRequirements(requests=requests, limits=limits),
        **pod_settings(),
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
        name="angler-pipeline",
        namespace=NAMESPACE,
        entrypoint="pipeline",
        arguments=arguments,
        service_account_name=SERVICE_ACCOUNT,
        automount_service_account_token=False,
        executor=m.ExecutorConfig(service_account_name=EXECUTOR_SERVICE_ACCOUNT),
        security_context=POD_SECURITY,
    ) as template:
        pin = pin_template()
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
            pinned = pin(name="pin-commit")
            commit = "{{tasks.pin-commit.outputs.parameters.commit}}"
            tasks = {}
            for stage, upstream in graph.items():
                kind = (
                    "spark"
                    if stage in SPARK_STAGES
                    else "gpu"
                    if stage in GPU_STAGES
                    else "default"
                )
                tasks[stage] = templates[kind](
                    name=stage, arguments={"stage": stage, "commit": commit}
                )
                for before in upstream:
                    tasks[before] >> tasks[stage]
                if not upstream:
                    pinned >> tasks[stage]
    cron = CronWorkflow(
        name="angler-retrain",
        namespace=NAMESPACE,
        schedule=SCHEDULE,
        concurrency_policy="Forbid",
        workflow_template_ref=m.WorkflowTemplateRef(name="angler-pipeline"),
    )
    return template, cron


def service_accounts() -> list[dict]:
    """The stages' account (no permissions, no token) and the executor's (task results only)."""

    def named(name: str) -> dict:
        return {"name": name, "namespace": NAMESPACE}

    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": named(SERVICE_ACCOUNT),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": named(EXECUTOR_SERVICE_ACCOUNT),
            "automountServiceAccountToken": False,  # Argo mounts the token Secret below itself
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/service-account-token",
            "metadata": {
                **named(f"{EXECUTOR_SERVICE_ACCOUNT}.service-account-token"),
                "annotations": {"kubernetes.io/service-account.name": EXECUTOR_SERVICE_ACCOUNT},
            },
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": named(EXECUTOR_SERVICE_ACCOUNT),
            "rules": [
                {
                    "apiGroups": ["argoproj.io"],
                    "resources": ["workflowtaskresults"],
                    "verbs": ["create", "patch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": named(EXECUTOR_SERVICE_ACCOUNT),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": EXECUTOR_SERVICE_ACCOUNT,
            },
            "subjects": [{"kind": "ServiceAccount", **named(EXECUTOR_SERVICE_ACCOUNT)}],
        },
    ]


def render() -> dict[str, str]:
    template, cron = build()
    return {
        "workflow-template.yaml": template.to_yaml(),
        "cron-workflow.yaml": cron.to_yaml(),
        "service-accounts.yaml": yaml.safe_dump_all(service_accounts(), sort_keys=False),
    }


if __name__ == "__main__":
    for name, text in render().items():
        (Path(__file__).parent / name).write_text(text, encoding="utf-8")
        print(f"wrote pipeline/argo/{name}")
