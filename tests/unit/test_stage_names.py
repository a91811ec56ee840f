"""One word per stage everywhere: dvc.yaml stage, angler/stages/<word>.py, `angler <word>`."""

import importlib

import yaml
from typer.testing import CliRunner

from angler.cli import STAGES, app

from helpers.paths import REPO_ROOT


def test_dvc_stages_are_the_cli_stages_and_modules():
    pipeline = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    assert tuple(pipeline) == STAGES
    for name, stage in pipeline.items():
        assert stage["cmd"].split()[:2] == ["angler", name]
        assert (REPO_ROOT / "angler" / "stages" / f"{name}.py").is_file()


def test_every_stage_has_help():
    runner = CliRunner()
    for name in STAGES:
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, result.output
        summary = importlib.import_module(f"angler.stages.{name}").main.__doc__.split()[:4]
        assert " ".join(summary) in " ".join(result.output.split()), result.output
