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
            help="report.json whose `promote` verdict approves it; recorded in --approvals."
        ),
    ] = None,
    approvals: Annotated[
        Path, typer.Option(help="The record of approved pins that pushes to main check.")
    ] = Path("k8s/approvals.json"),
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
    endpoint), or a malformed pin, is refused before anything is published.

    With --from-env staging --version N, production gets staging's version N: refused
    unless staging pins exactly that, a promote verdict approved it, and the store holds it
    intact (fetched and digest-checked). Nothing is published then."""
    from angler.deploy.approvals import NotApproved, record_approval
    from angler.deploy.serving import MODEL_ENV
    from angler.deploy.serving import promote as promote_model

    target = overlays / env
    if not (target / "kustomization.yaml").exists():
        raise AnglerError(f"no overlay {target} (environments: {environments(overlays)})")
    if from_env is not None:
        promote_from(overlays, from_env, target, version, store, approvals)
        return
    report = json.loads(verdict.read_text(encoding="utf-8")) if verdict else None
    if report is not None and report.get("verdict", {}).get("decision") != "promote":
        raise NotApproved(f"{verdict} holds no promote verdict: nothing is published")
    promotion = promote_model(model, store, target / MODEL_ENV, canary)
    pin = promotion.canary or promotion.stable
    if report is not None:
        record_approval(approvals, pin, report)
        typer.echo(f"recorded the approval of version {pin.version} in {approvals}")
    label = "canary" if canary else "stable"
    typer.echo(f"{env}: version {pin.version} ({pin.digest}) as {label}, in {store}")
    typer.echo(f"commit {target / MODEL_ENV} to deploy it")


def promote_from(
    overlays: Path, source_env: str, target: Path, version: int | None, store: str, approvals: Path
) -> None:
    import tempfile

    from angler.deploy.approvals import NotApproved, read_approvals
    from angler.deploy.serving import MODEL_ENV, promote_pinned, read_promotion

    if version is None:
        raise AnglerError("--from-env needs --version: the version seen healthy there")
    source = overlays / source_env / MODEL_ENV
    if not source.exists():
        raise AnglerError(f"no {source} (environments: {environments(overlays)})")
    pin = read_promotion(source).stable
    if read_approvals(approvals).get(str(pin.version), {}).get("digest") != pin.digest:
        raise NotApproved(f"{source}: version {pin.version} has no promote verdict in {approvals}")
    with tempfile.TemporaryDirectory() as scratch:
        promote_pinned(source, store, target / MODEL_ENV, version, Path(scratch))
    typer.echo(f"{target.name}: version {pin.version} ({pin.digest}) from {source_env}")
    typer.echo(f"commit {target / MODEL_ENV} to deploy it")


def environments(overlays: Path) -> str:
    return ", ".join(sorted(p.parent.name for p in overlays.glob("*/kustomization.yaml"))) or "none"
