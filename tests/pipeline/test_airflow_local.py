"""`make airflow` (pipeline/airflow/local.sh) listens on 127.0.0.1 only: `airflow
standalone` bound its API and log servers to every interface while the help said localhost.
Checked on the real processes: every listening socket of the script's process tree."""

import os
import sys
import time
from pathlib import Path

import psutil
import pytest

from helpers.engines import free_port, running
from helpers.paths import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
LOOPBACK = {"127.0.0.1", "::1"}
COMPONENTS = {"scheduler", "dag-processor", "triggerer"}  # the api-server answered already


def components(root: psutil.Process) -> set[str]:
    """The Airflow components running under the script, by their command line."""
    found = set()
    for process in root.children(recursive=True):
        try:
            found |= COMPONENTS & set(process.cmdline())
        except psutil.NoSuchProcess:
            continue
    return found


def listening(root: psutil.Process) -> set[tuple[str, int]]:
    found = set()
    for process in [root, *root.children(recursive=True)]:
        try:
            sockets = process.net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue
        found |= {(s.laddr.ip, s.laddr.port) for s in sockets if s.status == psutil.CONN_LISTEN}
    return found


def test_make_airflow_listens_on_loopback_only(tmp_path):
    port = free_port()
    env = {
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW_PORT": str(port),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "pipeline" / "airflow" / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "ANGLER_REPO": str(REPO_ROOT),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    script = [str(REPO_ROOT / "pipeline" / "airflow" / "local.sh")]
    health = f"http://127.0.0.1:{port}/api/v2/monitor/health"
    with running(script, health, env=env, timeout=180) as process:
        root = psutil.Process(process.pid)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not components(root) >= COMPONENTS:
            time.sleep(2)
        assert components(root) >= COMPONENTS
        time.sleep(20)  # time for any log or health server they would start
        sockets = listening(root)
        assert ("127.0.0.1", port) in sockets, sockets
        assert {ip for ip, _ in sockets} <= LOOPBACK, sockets
