"""Each benchmark script still runs, in its tiny mode. No timing is asserted."""

import json
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def test_data_stages_benchmark_runs_tiny(tmp_path):
    out = tmp_path / "data_stages.json"
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "data_stages.py"), "--tiny", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("| data stages (fixture, local[2]) | 35 rows |")
    measured = json.loads(out.read_text())
    assert measured["rows_in"] == 35
    assert set(measured["stages"]) == {"ingest", "label", "split", "featurize"}
    assert measured["peak_rss_mib"] > 0
