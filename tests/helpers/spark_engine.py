"""A Spark standalone cluster from the pyspark install, on 127.0.0.1 and free ports: one
master and one small worker, stopped by PID when the block ends."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from helpers.engines import EngineFailed, free_port, running

SPARK_CLASS = str(Path(sys.executable).with_name("spark-class"))


@dataclass(frozen=True)
class SparkCluster:
    master: str  # spark://127.0.0.1:<port>
    status_url: str  # the master's web UI, as JSON

    def status(self) -> dict:
        with urllib.request.urlopen(self.status_url, timeout=5) as answer:
            return json.load(answer)

    def applications(self) -> list[str]:
        """The names of the applications that ran on the cluster and finished."""
        return [app["name"] for app in self.status()["completedapps"]]


@contextmanager
def spark_cluster(root: Path, cores: int = 1, memory: str = "2g") -> Iterator[SparkCluster]:
    """The cluster, once a worker with `cores` and `memory` has registered."""
    port, master_ui, worker_ui = free_port(), free_port(), free_port()
    env = {
        "SPARK_LOG_DIR": str(root / "logs"),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,  # the executors' Python: the one with Angler
    }
    cluster = SparkCluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{master_ui}/json/")
    master = [SPARK_CLASS, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"]
    master += ["--port", str(port), "--webui-port", str(master_ui)]
    worker = [SPARK_CLASS, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1"]
    worker += ["--cores", str(cores), "--memory", memory, "--webui-port", str(worker_ui)]
    worker += ["--work-dir", str(root / "work"), cluster.master]
    worker_url = f"http://127.0.0.1:{worker_ui}/json/"
    with (
        running(master, cluster.status_url, env=env, cwd=root),
        running(worker, worker_url, env=env, cwd=root),
    ):
        _wait_for_worker(cluster)
        yield cluster


def _wait_for_worker(cluster: SparkCluster, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cluster.status()["aliveworkers"] >= 1:
            return
        time.sleep(0.5)
    raise EngineFailed(f"no Spark worker registered with the master within {timeout:.0f} s")
