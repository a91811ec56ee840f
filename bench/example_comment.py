"""Regenerate the README's example PR comment from a real run, as a reviewer would see it.

A clone of this checkout's HEAD (its own DVC cache and MLflow store, as a newcomer's) runs
`make demo`, then a branch `fewer-epochs` sets `train.epochs` to one fewer and runs
`dvc repro` and `angler report --base main`. Its report.json is kept in
bench/results/example_comment.json and its comment replaces the README's quoted example;
`--check` only renders the kept report.json again and compares it with the README (as
tests/unit/test_example_comment.py does, which also holds its base to main's committed
metrics and params). The run takes about eight minutes on 2 cores:

    python bench/example_comment.py
    python bench/example_comment.py --check
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "bench" / "results" / "example_comment.json"
README = ROOT / "README.md"
# The README's example sits between this line and the next heading.
STARTS_AFTER = "GitHub draws the Mermaid charts:\n\n"
ENDS_BEFORE = "\n\n## "


def quoted(comment: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in comment.rstrip("\n").split("\n"))


def readme_example(readme: str) -> str:
    """The quoted comment in the README's text."""
    after = readme.split(STARTS_AFTER, 1)[1]
    return after.split(ENDS_BEFORE, 1)[0]


def replace_example(readme: str, comment: str) -> str:
    return readme.replace(readme_example(readme), quoted(comment), 1)


BIN = ROOT / ".venv" / "bin"
ENV = os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def sh(folder: Path, *command: str, ok: tuple[int, ...] = (0,)) -> None:
    print("$", " ".join(command), flush=True)
    if subprocess.run(command, cwd=folder, env=ENV).returncode not in ok:
        sys.exit(f"failed: {' '.join(command)}")


def played_report(clone: Path) -> dict:
    """`make demo` on main, then the fewer-epochs branch's report against main."""
    sh(ROOT.parent, "git", "clone", "--quiet", str(ROOT), str(clone))
    (clone / ".venv").symlink_to(ROOT / ".venv")
    sh(clone, "make", "-o", ".venv/.installed", "demo")  # the venv is this checkout's
    sh(clone, "git", "checkout", "--quiet", "-b", "fewer-epochs")
    params = yaml.safe_load((clone / "params.yaml").read_text(encoding="utf-8"))
    params["train"]["epochs"] -= 1
    (clone / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    sh(clone, "git", "commit", "--quiet", "-am", f"train.epochs: {params['train']['epochs']}")
    sh(clone, "dvc", "repro")
    out = clone / "comment"
    sh(clone, "angler", "report", "--base", "main", "--out", str(out), ok=(0, 1))  # 1: reject
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="compare the README with the kept report.json only"
    )
    args = parser.parse_args()
    from angler.review.markdown import render_comment

    if args.check:
        kept = json.loads(RESULT.read_text(encoding="utf-8"))
        if readme_example(README.read_text(encoding="utf-8")) != quoted(render_comment(kept)):
            sys.exit(
                f"README.md's example comment is not {RESULT.relative_to(ROOT)} rendered: "
                "run python bench/example_comment.py"
            )
        print("README.md's example comment is current")
        return
    with tempfile.TemporaryDirectory() as scratch:
        report = played_report(Path(scratch) / "angler")
    RESULT.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    README.write_text(
        replace_example(README.read_text(encoding="utf-8"), render_comment(report)),
        encoding="utf-8",
    )
    print(f"wrote {RESULT.relative_to(ROOT)} and the README's example comment")


if __name__ == "__main__":
    main()
