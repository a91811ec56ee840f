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


def test_help_breaks_no_sentence_and_shows_no_type_beside_a_flag():
    """On a terminal wide enough, each paragraph of a command's docstring is one line of its
    --help; no flag (--help, --remote/--no-remote) shows a "<bool>" value."""
    from angler.cli import unwrapped
    from angler.commands import COMMANDS

    runner = CliRunner(env={"COLUMNS": "2000"})
    modules = {name: f"angler.stages.{name}" for name in STAGES} | {
        name: f"angler.commands.{name.replace('-', '_')}" for name in COMMANDS
    }
    assert "<bool>" not in runner.invoke(app, ["--help"]).output
    for name, module in modules.items():
        output = runner.invoke(app, [name, "--help"]).output
        assert "<bool>" not in output, output
        shown = {" ".join(line.strip(" │").split()) for line in output.splitlines()}
        doc = unwrapped(importlib.import_module(module).main.__doc__)
        for line in doc.splitlines():
            assert " ".join(line.split()) in shown | {""}, f"angler {name} --help: {line!r}"
