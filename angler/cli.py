"""The `angler` command: one subcommand per pipeline stage, plus helpers around them."""

from __future__ import annotations

import functools
import importlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from angler.errors import AnglerError

app = typer.Typer(
    help="Angler: phishing-URL detection pipeline. Each stage command is what dvc.yaml runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


STAGES = (
    "ingest",
    "label",
    "split",
    "featurize",
    "validate",
    "train",
    "evaluate",
    "export",
    "monitor",
)


def _stage(name: str) -> None:
    """Register angler.stages.<name>.main as `angler <name>` (its heavy imports wait for main)."""
    main = importlib.import_module(f"angler.stages.{name}").main

    @functools.wraps(main)
    def command(*args, **kwargs):
        _run(name, main, *args, **kwargs)

    app.command(name)(command)


def _run(name: str, func: Callable, *args, **kwargs) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s angler {name}: %(message)s", datefmt="%H:%M:%S"
    )
    for noisy in ("py4j", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        func(*args, **kwargs)
    except AnglerError as err:
        typer.echo(f"angler {name}: error: {err}", err=True)
        raise typer.Exit(2) from None


for _name in STAGES:
    _stage(_name)


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option(help="Folder to write the demo corpus into.")],
    size: Annotated[int, typer.Option(help="Rows to write.")] = 20000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 42,
) -> None:
    """Write the seeded demo corpus (the same files ingest reads with data.corpus: demo)."""
    from angler.demo import write_demo_corpus

    counts = write_demo_corpus(out, size, seed)
    typer.echo(f"wrote {sum(counts.values())} rows in {len(counts)} files under {out}")


@app.command()
def replay(
    month: Annotated[str, typer.Option(help="The month to replay, YYYY-MM.")],
    out: Annotated[Path, typer.Option(help="Traffic file to write (Parquet).")],
    features: Annotated[Path, typer.Option(help="The featurize stage's feature table.")] = Path(
        "data/features"
    ),
    model: Annotated[Path, typer.Option(help="The export stage's model store.")] = Path(
        "models/angler"
    ),
    params_path: Annotated[Path, typer.Option("--params", help="The pipeline's params.yaml.")] = (
        Path("params.yaml")
    ),
) -> None:
    """Write a month of the dated feeds as served traffic for `angler monitor`: the URLs
    first seen that month and benign test-split URLs to the monitor's expected class mix,
    with the model's scores."""

    def run() -> None:
        from angler.params import load_params
        from angler.replay import month_traffic, score_traffic

        params = load_params(params_path)
        traffic = month_traffic(
            features, month, params.monitor.traffic_phishing_share, params.base.seed
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        score_traffic(traffic, model).to_parquet(out, index=False)
        typer.echo(f"wrote {len(traffic):,} URLs of {month} to {out}")

    _run("replay", run)


@app.command()
def summary(
    reports: Annotated[Path, typer.Option(help="The reports folder.")] = Path("reports"),
    metrics: Annotated[Path, typer.Option(help="The evaluate stage's metrics.")] = Path(
        "metrics/evaluate.json"
    ),
) -> None:
    """Print what the last pipeline run did and the evaluation metrics."""
    from angler.summary import render_metrics, render_summary

    typer.echo(render_summary(reports))
    typer.echo()
    typer.echo(render_metrics(metrics))


@app.command()
def report(
    base: Annotated[str, typer.Option(help="Git revision to compare with (the PR's base).")],
    base_name: Annotated[str, typer.Option(help="Name of the base in the comment.")] = "",
    head_name: Annotated[str, typer.Option(help="Name of the PR branch in the comment.")] = "",
    pr: Annotated[str, typer.Option(help="Pull request number.")] = "",
    remote: Annotated[
        bool, typer.Option(help="Whether this run had the DVC remote (else: demo data).")
    ] = False,
    out: Annotated[
        Path, typer.Option(help="Folder for comment.md, report.json, pr-number.")
    ] = Path("comment"),
) -> None:
    """Render the pull-request comment: params and metrics diff against --base, data checks,
    stage summary, curves, MLflow run and the champion/challenger verdict.

    Run after `dvc repro`, also when it failed. Exits 1 when the verdict is reject.
    """

    def render() -> None:
        import json

        from angler.markdown import render_comment
        from angler.report import PullRequest, build_report

        request = PullRequest(base, base_name or base, head_name, pr, remote)
        result = build_report(request)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
        (out / "comment.md").write_text(render_comment(result), encoding="utf-8")
        (out / "pr-number").write_text(pr + "\n", encoding="utf-8")
        decision = result["verdict"]
        typer.echo(f"verdict: {decision['decision']}: " + "; ".join(decision["reasons"]))
        typer.echo(f"comment written to {out / 'comment.md'}")
        if decision["decision"] == "reject":
            raise typer.Exit(1)

    _run("report", render)


StoreOption = Annotated[
    str,
    typer.Option(
        envvar="ANGLER_MODEL_STORE",
        help="Model store: a folder or an fsspec URL (s3://...) holding <version>/ folders.",
    ),
]


@app.command()
def promote(
    env: Annotated[str, typer.Option(help="Environment: an overlay under --overlays.")],
    model: Annotated[Path, typer.Option(help="The export stage's model folder.")] = Path(
        "models/angler"
    ),
    store: StoreOption = "model-store/angler",
    overlays: Annotated[Path, typer.Option(help="Kustomize overlays folder.")] = Path(
        "k8s/overlays"
    ),
    canary: Annotated[bool, typer.Option(help="Serve it beside stable as `canary`.")] = False,
) -> None:
    """Publish the exported model to the model store and pin its version and digest in
    k8s/overlays/<env>/model.env, the one file a promotion changes. Commit that file: the
    merge is the deployment, and `git revert` of the commit is the rollback."""

    def run() -> None:
        from angler.serving import MODEL_ENV
        from angler.serving import promote as promote_model

        target = overlays / env
        if not (target / "kustomization.yaml").exists():
            raise AnglerError(f"no overlay {target} (environments: {_environments(overlays)})")
        promotion = promote_model(model, store, target / MODEL_ENV, canary)
        pin = promotion.canary or promotion.stable
        label = "canary" if canary else "stable"
        typer.echo(f"{env}: version {pin.version} ({pin.digest}) as {label}, in {store}")
        typer.echo(f"commit {target / MODEL_ENV} to deploy it")

    _run("promote", run)


@app.command("fetch-model")
def fetch_model(
    out: Annotated[Path, typer.Option(help="Folder TF Serving reads (<out>/<version>/).")],
    config: Annotated[Path, typer.Option(help="Where to write the TF Serving model config.")],
    store: StoreOption = "model-store/angler",
    promotion: Annotated[
        Path | None, typer.Option(help="A model.env file; default: the ANGLER_* variables.")
    ] = None,
) -> None:
    """The serving pod's init step: fetch the pinned versions from the model store, refuse
    any whose SHA-256 differs from the pinned digest, and write the TF Serving config."""

    def run() -> None:
        from angler.serving import fetch_model as fetch
        from angler.serving import promotion_from_env, read_promotion

        pinned = read_promotion(promotion) if promotion else promotion_from_env(os.environ)
        fetch(store, pinned, out, config)
        versions = ", ".join(str(pin.version) for pin in pinned.pins())
        typer.echo(f"fetched version(s) {versions} into {out}; config at {config}")

    _run("fetch-model", run)


def _environments(overlays: Path) -> str:
    return ", ".join(sorted(p.parent.name for p in overlays.glob("*/kustomization.yaml"))) or "none"


EnvOption = Annotated[str, typer.Option(help="Environment: an overlay under --overlays.")]
OverlaysOption = Annotated[Path, typer.Option(help="Kustomize overlays folder.")]


@app.command()
def champion(
    env: EnvOption = "production",
    overlays: OverlaysOption = Path("k8s/overlays"),
    check_only: Annotated[
        bool, typer.Option(help="Only check that the registry has the pinned model.")
    ] = False,
) -> None:
    """Move the MLflow alias `champion` to the version the environment pins, once the
    registry's copy is checked to have the pinned digest. Run after a promotion is merged:
    the registry follows git, never the other way round."""

    def run() -> None:
        import tempfile

        from angler.registry import check_version, set_champion
        from angler.serving import MODEL_ENV, read_promotion

        pin = read_promotion(overlays / env / MODEL_ENV).stable
        with tempfile.TemporaryDirectory() as scratch:
            if check_only:
                check_version(pin.version, pin.digest, Path(scratch))
                typer.echo(f"registry version {pin.version} is the model {env} pins")
                return
            previous = set_champion(pin.version, pin.digest, Path(scratch))
        typer.echo(f"champion: version {previous or 'none'} -> {pin.version} ({env})")

    _run("champion", run)


@app.command()
def reconcile(
    env: EnvOption = "production",
    overlays: OverlaysOption = Path("k8s/overlays"),
    store: StoreOption = "model-store/angler",
    write: Annotated[
        bool, typer.Option(help="On drift, promote the alias's version in the overlay.")
    ] = False,
) -> None:
    """Check that the registry's `champion` alias is the version git pins. Exits 1 on
    drift; with --write it also writes the promotion that would make git agree, for a pull
    request to review (the alias was moved outside git)."""

    def run() -> None:
        import tempfile

        from angler.registry import champion_version, model_folder_for
        from angler.serving import MODEL_ENV, read_promotion
        from angler.serving import promote as promote_model

        pinned = read_promotion(overlays / env / MODEL_ENV).stable.version
        alias = champion_version()
        if alias == pinned:
            typer.echo(f"in sync: git and the registry's champion are both version {pinned}")
            return
        typer.echo(
            f"drift: git pins version {pinned} for {env}, the registry's champion is "
            f"{alias or 'not set'}"
        )
        if write and alias is not None:
            with tempfile.TemporaryDirectory() as scratch:
                folder = model_folder_for(alias, Path(scratch))
                promote_model(folder, store, overlays / env / MODEL_ENV)
            typer.echo(f"wrote {overlays / env / MODEL_ENV}: open a pull request with it")
        raise typer.Exit(1)

    _run("reconcile", run)
