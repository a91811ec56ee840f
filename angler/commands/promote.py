"""`angler promote`: publish the exported model and pin it in an overlay."""

import json
from pathlib import Path
from typing import Annotated

import typer

from angler.errors import AnglerError
from angler.options import (
    DEFAULT_OVERLAYS,
    DEFAULT_STORE,
    EnvOption,
    ExportedModelOption,
    OverlaysOption,
    StoreOption,
)


def main(
    env: EnvOption,
    model: ExportedModelOption = Path("models/angler"),
    store: StoreOption = DEFAULT_STORE,
    overlays: OverlaysOption = DEFAULT_OVERLAYS,
    canary: Annotated[bool, typer.Option(help="Serve it beside stable as `canary`.")] = False,
    verdict: Annotated[
        Path | None,
        typer.Option(
            help="report.json whose `promote` verdict approves it; recorded in the store's "
            "ledger, which `check-pins` and `fetch-model --env` trust."
        ),
    ] = None,
    local_only: Annotated[
        bool,
        typer.Option(
            "--local-only",
            help="Publish and pin without a verdict, for a local store and `make serve`: "
            "`check-pins` and every serving pod refuse such a pin.",
        ),
    ] = False,
    from_env: Annotated[
        str | None,
        typer.Option(
            help="Pin what this environment serves instead (production takes staging's "
            "version once it is healthy there); needs --version."
        ),
    ] = None,
    version: Annotated[
        int | None, typer.Option(help="With --from-env: the version seen healthy there.")
    ] = None,
) -> None:
    """Publish the exported model to the model store and pin it in an overlay.

    The version and digest go to k8s/overlays/<env>/model.env, the one file a promotion
    changes. Commit that file: the merge is the deployment, and `git revert` of the commit
    is the rollback. A model.env holding anything but the four pin keys (a store, an
    endpoint), or a malformed pin, is refused before anything is published. --verdict puts
    the approval and the pin in the store's ledger (angler/deploy/ledger.py); without one,
    only --local-only publishes (for `make serve`), and `check-pins` and `fetch-model --env`
    refuse that pin.

    With --from-env staging --version N, production gets staging's version N: refused
    unless staging pins exactly that, the ledger backs it there, and the store holds it
    intact (fetched and digest-checked). Nothing is published then."""
    from angler.deploy.ledger import TAKES_FROM, NotApproved, record_approval, record_pin
    from angler.deploy.serving import MODEL_ENV
    from angler.deploy.serving import promote as promote_model

    target = overlays / env
    if not (target / "kustomization.yaml").exists():
        raise AnglerError(f"no overlay {target} (environments: {environments(overlays)})")
    if from_env is not None:
        promote_from(overlays, from_env, target, version, store)
        return
    if verdict and env in TAKES_FROM:
        raise NotApproved(
            f"{env} takes versions from {TAKES_FROM[env]} only: "
            f"--from-env {TAKES_FROM[env]} --version N, not --verdict"
        )
    if verdict is None and not local_only:
        raise NotApproved(
            "no --verdict: `check-pins` and every serving pod refuse a pin no verdict approved; "
            "pass --verdict report.json (the promote job does), or --local-only to pin it for "
            "`make serve` on this machine"
        )
    report = read_verdict(verdict) if verdict else None
    if report is not None and decision(report) != "promote":
        raise NotApproved(f"{verdict} holds no promote verdict: nothing is published")
    promotion = promote_model(model, store, target / MODEL_ENV, canary)
    pin = promotion.canary or promotion.stable
    label = "canary" if canary else "stable"
    typer.echo(f"{env}: version {pin.version} ({pin.digest}) as {label}, in {store}")
    if report is None:
        typer.echo(
            f"local only: {target / MODEL_ENV} is for `make serve SERVE_ENV={env}`; do not "
            "commit it (check-pins and serving pods refuse a pin no verdict approved)"
        )
        return
    record_approval(store, pin, verdict.read_bytes())
    record_pin(store, env, pin)
    typer.echo(f"recorded the approval and the {env} pin in {store}/ledger")
    typer.echo(f"commit {target / MODEL_ENV} to deploy it (the one file to commit)")


def read_verdict(path: Path) -> dict:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise AnglerError(f"cannot read {path}: {err.strerror}") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise AnglerError(f"{path} is not a JSON report: {err}") from None
    if not isinstance(report, dict):
        raise AnglerError(f"{path} is not a JSON report: expected an object")
    return report


def decision(report: dict) -> str | None:
    verdict = report.get("verdict")
    return verdict.get("decision") if isinstance(verdict, dict) else None


def promote_from(
    overlays: Path, source_env: str, target: Path, version: int | None, store: str
) -> None:
    import tempfile

    from angler.deploy.ledger import NotApproved, pin_problem, record_pin
    from angler.deploy.serving import MODEL_ENV, promote_pinned, read_promotion

    if version is None:
        raise AnglerError("--from-env needs --version: the version seen healthy there")
    source = overlays / source_env / MODEL_ENV
    if not source.exists():
        raise AnglerError(f"no {source} (environments: {environments(overlays)})")
    pin = read_promotion(source).stable
    problem = pin_problem(store, source_env, pin)
    if problem:
        raise NotApproved(f"{source}: {problem}")
    with tempfile.TemporaryDirectory() as scratch:
        promote_pinned(source, store, target / MODEL_ENV, version, Path(scratch))
    record_pin(store, target.name, pin)
    typer.echo(f"{target.name}: version {pin.version} ({pin.digest}) from {source_env}")
    typer.echo(f"commit {target / MODEL_ENV} to deploy it")


def environments(overlays: Path) -> str:
    return ", ".join(sorted(p.parent.name for p in overlays.glob("*/kustomization.yaml"))) or "none"
