"""The README's local promotion loop ("The whole promotion loop, locally"), played command by
command from the README itself in a checkout of main after its pipeline ran (`make demo`'s
pipeline; the registry is the checkout's own, version 1 its model), each command's exit code
and the output its comment shows checked. The README's one narrative step, a committed change
of `train.epochs` and `dvc repro`, is played too.

Here main's demo is the tests' small one, so its model is not the repository's demo model:
the committed pins are set to main's version 1 first, as the repository's pin its demo's."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers.git_repo import copy_checkout, git, pipeline_env
from helpers.paths import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

BLOCK_AFTER = "The whole promotion loop, locally"
HEX = re.compile(r"[0-9a-f]{8,}")


def walkthrough() -> list[tuple[str, str]]:
    """The block's lines as (command, comment), continuation lines joined."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split(BLOCK_AFTER, 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    lines = []
    for line in block.replace("\\\n", " ").splitlines():
        command, _, comment = line.partition("#")
        lines.append((" ".join(command.split()), comment.strip()))
    return lines


def expected(comment: str) -> tuple[int, re.Pattern]:
    """The exit code and output a README comment shows: `exit N: "..."` or the output
    itself; `…` and `...` stand for what it shortened, digests for any digest."""
    code, text = 0, comment
    if match := re.fullmatch(r'exit (\d+): "(.*)"', comment):
        code, text = int(match[1]), match[2]
    parts = re.split(r"…|\.\.\.", text)
    pattern = ".*".join(HEX.sub("[0-9a-f]+", re.escape(part)) for part in parts)
    return code, re.compile(pattern)


def run(repo: Path, command: str) -> subprocess.CompletedProcess:
    """A README line, as a shell with the project's venv on PATH runs it."""
    return subprocess.run(
        command,
        shell=True,
        cwd=repo,
        env=pipeline_env(repo),
        capture_output=True,
        text=True,
        timeout=900,
    )


def must(repo: Path, command: str) -> str:
    done = run(repo, command)
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def checkout(reproduced_main, tmp_path_factory) -> Path:
    """main after its pipeline, with a registry of its own (the export stage rerun into a
    new MLflow store registers version 1 again, the same bytes) and pins of its model."""
    repo = copy_checkout(reproduced_main, tmp_path_factory.mktemp("walkthrough") / "angler")
    must(repo, "dvc repro --force --single-item export")
    assert git(repo, "status", "--porcelain") == ""  # the same model, version 1
    exported = yaml.safe_load((repo / "models" / "angler" / "model.json").read_text())
    for env in ("staging", "production"):
        model_env = repo / "k8s" / "overlays" / env / "model.env"
        pins = re.sub(
            r"(?m)^ANGLER_MODEL_DIGEST=.*$",
            f"ANGLER_MODEL_DIGEST={exported['digest']}",
            model_env.read_text(),
        )
        model_env.write_text(
            re.sub(r"(?m)^ANGLER_MODEL_VERSION=.*$", "ANGLER_MODEL_VERSION=1", pins)
        )
    git(repo, "commit", "-qam", "the committed pins: main's demo model")
    return repo


def retrain(repo: Path, comment: str) -> None:
    """The narrative step: a change of train.epochs (the README's value, or one fewer where
    main already has it), `dvc repro`, both committed."""
    shown = re.fullmatch(
        r"train\.epochs: (\d+), then dvc repro \(it exports version (\d+)\), both committed",
        comment,
    )
    assert shown, comment
    params = yaml.safe_load((repo / "params.yaml").read_text())
    epochs = params["train"]["epochs"]
    params["train"]["epochs"] = int(shown[1]) if int(shown[1]) != epochs else epochs - 1
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    must(repo, "dvc repro")
    assert yaml.safe_load((repo / "models/angler/model.json").read_text())["version"] == int(
        shown[2]
    )
    git(repo, "commit", "-qam", "fewer epochs")


def revert(repo: Path, command: str, comment: str) -> None:
    """`git revert`, whose comment says which pin it restores."""
    env, version = re.fullmatch(r"(\w+)'s model\.env pins version (\d+) again", comment).groups()
    must(repo, command)
    assert (
        f"ANGLER_MODEL_VERSION={version}\n" in (repo / f"k8s/overlays/{env}/model.env").read_text()
    )
    assert git(repo, "status", "--porcelain") == ""


def test_the_readme_promotion_loop_runs_as_shown(checkout):
    steps = walkthrough()
    assert sum(command.startswith("angler ") for command, _ in steps) >= 8
    for command, comment in steps:
        if not command:
            retrain(checkout, comment)
        elif command.startswith("git revert"):
            revert(checkout, command, comment)
        else:
            code, pattern = expected(comment)
            done = run(checkout, command)
            output = done.stdout + done.stderr
            assert done.returncode == code, f"{command}\n{output[-3000:]}"
            assert "Traceback" not in output, command
            shown = " ".join(output.split())
            assert pattern.search(shown), f"{command}: {comment}\n{output[-2000:]}"
