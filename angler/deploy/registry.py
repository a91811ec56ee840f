"""The MLflow model registry's side of a promotion.

Git decides what serves; the registry follows. After a promotion is merged, the alias
`champion` moves to the version production pins (`angler champion`). An alias moved by
hand in the MLflow UI is drift: `angler reconcile` (hourly) and `angler registry-events`
(on MLflow's webhook) find it and write a drift report for people to act on. Neither
publishes the alias's version nor writes model.env: whoever can move the alias must not
thereby choose what serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException

from angler.deploy.model_store import directory_digest
from angler.deploy.serving import MODEL_ENV, read_promotion
from angler.errors import AnglerError
from angler.model import tracking

CHAMPION = "champion"


class RegistryError(AnglerError):
    """The registry does not have what git pins."""


@dataclass(frozen=True)
class RegistryVersion:
    """What the registry says about one version of the registered model."""

    version: int
    run_id: str
    source: str
    created: str  # ISO 8601, UTC
    git_commit: str  # the commit the version's run was trained from, when it was tagged


@dataclass(frozen=True)
class AliasCheck:
    """The version `env` pins in git, and the version `champion` points at (if set)."""

    env: str
    pin_file: Path
    pinned: int
    champion: RegistryVersion | None

    @property
    def in_sync(self) -> bool:
        return self.champion is not None and self.champion.version == self.pinned


def champion_version() -> int | None:
    tracking.configure()
    try:
        found = mlflow.MlflowClient().get_model_version_by_alias(
            tracking.REGISTERED_MODEL, CHAMPION
        )
    except MlflowException:
        return None
    return int(found.version)


def champion_details() -> RegistryVersion | None:
    """The version `champion` points at, read without writing anything to the server."""
    client = registry_client()
    try:
        found = client.get_model_version_by_alias(tracking.REGISTERED_MODEL, CHAMPION)
    except MlflowException as err:
        if err.error_code == "RESOURCE_DOES_NOT_EXIST" or "not found" in err.message.lower():
            return None
        raise RegistryError(f"registry: {err.message}") from None
    commit = ""
    if found.run_id:
        try:
            commit = client.get_run(found.run_id).data.tags.get("mlflow.source.git.commit", "")
        except MlflowException:
            commit = ""  # the run was deleted: the version still says what it came from
    created = datetime.fromtimestamp(found.creation_timestamp / 1000, timezone.utc)
    return RegistryVersion(
        version=int(found.version),
        run_id=found.run_id or "",
        source=found.source or "",
        created=created.isoformat(timespec="seconds"),
        git_commit=commit,
    )


def check_alias(env: str, overlays: Path) -> AliasCheck:
    """Compare `champion` with the stable version git pins for `env`."""
    pin_file = overlays / env / MODEL_ENV
    return AliasCheck(env, pin_file, read_promotion(pin_file).stable.version, champion_details())


def drift_summary(check: AliasCheck) -> str:
    alias = check.champion.version if check.champion else "not set"
    return (
        f"drift: git pins version {check.pinned} for {check.env}, the registry's champion is "
        f"{alias}"
    )


def drift_report(check: AliasCheck) -> str:
    """Markdown for an issue: what git and the registry say, and what to do about it.

    The registry's values are quoted as code and cleaned, since whoever moved the alias
    also chose the version's source text."""
    alias = check.champion
    title = (
        f"Registry drift: champion is version {alias.version}, {check.env} pins {check.pinned}"
        if alias
        else f"Registry drift: champion is not set, {check.env} pins {check.pinned}"
    )
    rows = [
        (f"git pins ({check.env})", f"version {check.pinned}, `{_code(str(check.pin_file))}`"),
        (f"`{CHAMPION}`", f"version {alias.version}" if alias else "not set"),
    ]
    if alias:
        rows += [
            ("run id", f"`{_code(alias.run_id)}`"),
            ("source", f"`{_code(alias.source)}`"),
            ("created", alias.created),
            ("run's git commit", f"`{_code(alias.git_commit)}`" if alias.git_commit else "-"),
        ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    back = f"`angler champion --env {check.env}`"
    todo = (
        f"- To serve version {alias.version}: open a pull request that changes the pin in "
        f"`{_code(str(check.pin_file))}`, so that the PR loop judges it; its merge promotes "
        f"it.\n- Otherwise move the alias back to what git pins: {back}.\n"
        if alias
        else f"- Set the alias to what git pins: {back}.\n"
    )
    return (
        f"# {title}\n\n"
        f"The MLflow alias `{CHAMPION}` of the registered model `{tracking.REGISTERED_MODEL}` "
        "is not the version git pins. Nothing was published and no overlay was written: the "
        "registry follows git, never the other way round.\n\n"
        f"| | |\n|---|---|\n{table}\n\n"
        f"What to do:\n\n{todo}"
    )


def check_version(version: int, digest: str, scratch: Path) -> None:
    """Refuse a registry version whose TF Serving files do not have the pinned digest."""
    actual = directory_digest(download_serving_model(version, scratch))
    if actual != digest:
        raise RegistryError(
            f"registry version {version} has digest {actual}, git pins {digest}: this is not "
            "the registry the model was promoted from"
        )


def set_champion(version: int, digest: str, scratch: Path) -> int | None:
    """Move `champion` to `version` once it is checked to be the pinned model; return the
    version it pointed at before."""
    check_version(version, digest, scratch)
    previous = champion_version()
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(tracking.REGISTERED_MODEL, CHAMPION, str(version))
    return previous


def download_serving_model(version: int, dest: Path) -> Path:
    """The TF Serving folder that the export stage logged with registry version `version`."""
    tracking.configure()
    client = mlflow.MlflowClient()
    try:
        run_id = client.get_model_version(tracking.REGISTERED_MODEL, str(version)).run_id
        exported = mlflow.artifacts.load_dict(f"runs:/{run_id}/model.json")["version"]
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=f"tf_serving/{exported}", dst_path=str(dest)
        )
    except MlflowException as err:
        raise RegistryError(f"registry version {version}: {err.message}") from None
    return Path(path)


def registry_client() -> mlflow.MlflowClient:
    """A client for the configured server. Unlike tracking.configure() it creates no
    experiment: a drift check, run with a read-only token, has no business writing."""
    uri = tracking.tracking_uri()
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def _code(text: str, limit: int = 200) -> str:
    """Registry text, safe inside a Markdown code span in a table cell."""
    cleaned = " ".join(text.split()).replace("`", "'").replace("|", "/")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."
