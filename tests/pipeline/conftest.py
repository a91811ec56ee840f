"""Real engines for the pipeline tests, started once per session on 127.0.0.1."""

from __future__ import annotations

import pytest

from helpers.spark_engine import SparkCluster, spark_cluster


@pytest.fixture(scope="session")
def spark_standalone(tmp_path_factory) -> SparkCluster:
    """A standalone Spark master with one 1-core, 2 GB worker."""
    with spark_cluster(tmp_path_factory.mktemp("spark-cluster")) as cluster:
        yield cluster
