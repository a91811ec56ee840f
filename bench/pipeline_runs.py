"""Benchmark `make demo` on a warm environment (.venv already built), and the incremental run.

Copies the working tree (tracked and untracked-but-not-ignored files, as a fresh clone
would have) into a scratch git repository and times the Makefile's demo commands there,
`dvc repro` then `angler summary`, with this .venv; then again with nothing changed (no
stage reruns, dvc.lock stays as it was); then after a change of train.learning_rate, when
only the stages that read the train params, and those downstream, rerun.

    python bench/pipeline_runs.py --out bench/results/pipeline_runs.json
    python bench/pipeline_runs.py --tiny      # a small demo corpus, as `make test` runs it
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml
from result_file import write_result

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEMO_COMMANDS = (["dvc", "repro"], ["angler", "summary", "--reports", "reports"])
TINY = {
    "data.demo_size": 3000,
    "validate.min_rows": 500,
    "train.epochs": 1,
    "train.max_train_rows": 1000,
    "model.ngram_buckets": 262144,
}


def git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.email=bench@angler.invalid", "-c", "user.name=bench", *args]
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, check=True).stdout


def copy_working_tree(workdir: Path) -> None:
    """What tests/git_repo.py copy_repo does: the files git would commit, in a new repository."""
    listed = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in listed.split("\0"):
        if name and (REPO / name).is_file():
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, workdir / name)
    git(workdir, "init", "-q", "-b", "main")
    git(workdir, "add", "-A")
    git(workdir, "commit", "-qm", "copy of the working tree")


def set_params(path: Path, overrides: dict) -> None:
    """Set `section.key` values in a params.yaml."""
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        params[section][key] = value
    path.write_text(yaml.safe_dump(params), encoding="utf-8")


def make_demo(workdir: Path) -> tuple[float, list[str]]:
    """Wall time of the demo commands and the stages `dvc repro` ran, in order."""
    env = {**os.environ, "ANGLER_SPARK_LOG_LEVEL": "ERROR"}
    env.pop("MLFLOW_TRACKING_URI", None)  # the copy's own ./mlflow.db, as on a fresh clone
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    output = ""
    start = time.perf_counter()
    for command in DEMO_COMMANDS:
        done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed:\n{(done.stdout + done.stderr)[-3000:]}")
        output += done.stdout
    return time.perf_counter() - start, re.findall(r"Running stage '([a-z]+)'", output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="a 3,000-URL demo corpus, 1 epoch")
    parser.add_argument("--workdir", type=Path, help="an empty folder to run in, kept afterwards")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        if any(args.workdir.iterdir()):
            sys.exit(f"{args.workdir} is not empty")
    folder = (
        contextlib.nullcontext(args.workdir)
        if args.workdir
        else tempfile.TemporaryDirectory(prefix="angler-bench-")
    )
    with folder as name:
        workdir = Path(name)
        copy_working_tree(workdir)
        params = workdir / "params.yaml"
        if args.tiny:
            set_params(params, TINY)
        full_seconds, full_stages = make_demo(workdir)
        urls = json.loads((workdir / "reports/ingest.json").read_text())["rows_in"]
        lock = (workdir / "dvc.lock").read_text()
        unchanged_seconds, unchanged_stages = make_demo(workdir)
        lock_kept = (workdir / "dvc.lock").read_text() == lock
        train = yaml.safe_load(params.read_text(encoding="utf-8"))["train"]
        set_params(params, {"train.learning_rate": train["learning_rate"] / 2})
        again_seconds, again_stages = make_demo(workdir)

    ratio = again_seconds / full_seconds
    result = {
        "benchmark": "pipeline_runs",
        "corpus": "demo, tiny" if args.tiny else "demo",
        "urls": urls,
        "full": {"seconds": round(full_seconds, 1), "stages": full_stages},
        "nothing_changed": {
            "seconds": round(unchanged_seconds, 1),
            "stages": unchanged_stages,
            "dvc_lock_unchanged": lock_kept,
        },
        "after_train_param_change": {
            "param": "train.learning_rate",
            "seconds": round(again_seconds, 1),
            "stages": again_stages,
        },
        "incremental_ratio": round(ratio, 2),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30),
            "python": platform.python_version(),
        },
    }
    print(
        f"| make demo (warm env) | full | {urls:,} URLs | {full_seconds:.0f} s "
        f"| {', '.join(full_stages)} |"
    )
    print(
        f"| make demo (warm env) | nothing changed | {urls:,} URLs | {unchanged_seconds:.0f} s "
        f"| {', '.join(unchanged_stages) or 'none'} |"
    )
    print(
        f"| make demo (warm env) | after a train: param change | {urls:,} URLs "
        f"| {again_seconds:.0f} s ({ratio:.0%} of full) | {', '.join(again_stages)} |"
    )
    write_result(args.out, result)


if __name__ == "__main__":
    main()
