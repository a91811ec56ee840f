"""Benchmark the pipeline's stages on a corpus: the data stages (ingest -> validate),
or with `--all` every stage up to export, at the corpus's full size or a share of its sites.

Runs each stage command exactly as dvc.yaml does, in a scratch folder, with Spark
`local[2]`, and samples the resident memory of the whole process tree (Python driver,
JVM, Python workers). Prints one Markdown table row and writes JSON.

    python bench/data_stages.py --corpus ../shared/data --out bench/results/data_stages.json
    python bench/data_stages.py --all --fraction 0.25 --out bench/results/scaling_0.25.json
    python bench/data_stages.py --tiny      # the committed fixture corpus, as `make test` runs it

`--workdir DIR` keeps the run's outputs (`angler summary` there shows its metrics).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml
from result_file import write_result

REPO = Path(__file__).resolve().parents[1]
DATA_STAGES = ("ingest", "label", "split", "featurize", "validate")
ALL_STAGES = (*DATA_STAGES, "train", "evaluate", "export")


def stage_commands(stages: tuple[str, ...]) -> dict[str, str]:
    pipeline = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    return {name: " ".join(pipeline[name]["cmd"].split()) for name in stages}


def peak_rss(process: subprocess.Popen, interval: float = 0.2) -> list[int]:
    """Start sampling the RSS of `process` and its children; the list's max is the peak."""
    samples = [0]

    def sample() -> None:
        root = psutil.Process(process.pid)
        while process.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                samples.append(sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(interval)

    threading.Thread(target=sample, daemon=True).start()
    return samples


def run_stage(command: str, workdir: Path, env: dict) -> tuple[float, int]:
    start = time.perf_counter()
    process = subprocess.Popen(command, shell=True, cwd=workdir, env=env)
    samples = peak_rss(process)
    if process.wait() != 0:
        sys.exit(f"stage failed: {command}")
    return time.perf_counter() - start, max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="corpus directory (default: ../shared/data)")
    parser.add_argument("--tiny", action="store_true", help="use the committed fixture corpus")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--all", action="store_true", help="every stage up to export")
    parser.add_argument("--fraction", type=float, default=1.0, help="data.sample_fraction")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument(
        "--workdir", type=Path, help="run in this new folder and keep it (metrics, reports)"
    )
    args = parser.parse_args()
    corpus = (
        REPO / "tests/fixtures/corpus" if args.tiny else args.corpus or REPO.parent / "shared/data"
    )
    if not corpus.is_dir():
        sys.exit(f"no corpus at {corpus}")

    env = {**os.environ, "SPARK_MASTER": args.master, "ANGLER_SPARK_LOG_LEVEL": "ERROR"}
    env.pop("MLFLOW_TRACKING_URI", None)  # the scratch folder's own SQLite store
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    if args.workdir:
        args.workdir.mkdir(parents=True)  # a new folder: no stale outputs mixed in
    with tempfile.TemporaryDirectory(prefix="angler-bench-") as scratch:
        workdir = args.workdir.resolve() if args.workdir else Path(scratch)
        params = yaml.safe_load((REPO / "params.yaml").read_text())
        params["data"]["corpus"] = str(corpus.resolve())
        params["data"]["sample_fraction"] = args.fraction
        if args.tiny:  # 25 URLs: the params tests/pipeline/test_data_stages.py gives them
            params["validate"]["min_rows"] = 10
            params["split"]["temporal_months"] = 1
        (workdir / "params.yaml").write_text(yaml.safe_dump(params))
        stages = {}
        for name, command in stage_commands(ALL_STAGES if args.all else DATA_STAGES).items():
            seconds, rss = run_stage(command, workdir, env)
            stages[name] = {"seconds": round(seconds, 1), "peak_rss_mib": rss // 2**20}
        ingest = json.loads((workdir / "reports/ingest.json").read_text())
        rows = ingest["rows_in"] - ingest["sampled_out"]

    total = sum(s["seconds"] for s in stages.values())
    result = {
        "benchmark": "all_stages" if args.all else "data_stages",
        "corpus": "fixture" if args.tiny else str(corpus),
        "fraction": args.fraction,
        "master": args.master,
        "rows_in": rows,
        "wall_seconds": round(total, 1),
        "urls_per_second": round(rows / total),
        "peak_rss_mib": max(s["peak_rss_mib"] for s in stages.values()),
        "stages": stages,
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30),
            "python": platform.python_version(),
        },
    }
    per_stage = ", ".join(f"{k} {v['seconds']} s" for k, v in stages.items())
    which = "all stages" if args.all else "data stages"
    print(
        f"| {which} ({result['corpus']}, {args.master}, x{args.fraction:g}) | {rows:,} rows "
        f"| {total:.0f} s "
        f"| {result['urls_per_second']:,} URLs/s | {result['peak_rss_mib']:,} MiB | {per_stage} |"
    )
    write_result(args.out, result)


if __name__ == "__main__":
    main()
