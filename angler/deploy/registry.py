"""The MLflow model registry's side of a promotion.

Git decides what serves; the registry follows. After a promotion is merged, the alias
`champion` moves to the version production pins (`angler champion`). An alias moved by
hand in the MLflow UI is drift: `angler reconcile` finds it and can write the promotion
that would make git agree, for a pull request to review.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException

from angler.deploy.model_store import directory_digest
from angler.errors import AnglerError
from angler.model import tracking

CHAMPION = "champion"


class RegistryError(AnglerError):
    """The registry does not have what git pins."""


def champion_version() -> int | None:
    tracking.configure()
    try:
        found = mlflow.MlflowClient().get_model_version_by_alias(
            tracking.REGISTERED_MODEL, CHAMPION
        )
    except MlflowException:
        return None
    return int(found.version)


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


def model_folder_for(version: int, dest: Path) -> Path:
    """Registry version `version` laid out like the export stage's output (<version>/ and
    model.json), ready for `angler promote`."""
    folder = dest / "model"
    shutil.move(download_serving_model(version, dest / "download"), folder / str(version))
    description = {"version": version, "digest": directory_digest(folder / str(version))}
    (folder / "model.json").write_text(json.dumps(description), encoding="utf-8")
    return folder
