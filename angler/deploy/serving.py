"""What TF Serving serves: each environment's promotion file and the TF Serving model config
(the versions themselves live in the model store, angler/deploy/model_store.py).

- `k8s/overlays/<env>/model.env` pins the version and its SHA-256 digest: the only file a
  promotion changes, so git says what serves and `git revert` rolls back.
- The init container of the serving Deployment fetches the pinned version, refuses it
  unless its digest matches, and writes the model config with `specific` versions and the
  `stable` (and `canary`) labels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from angler.deploy.model_store import fetch_version, publish_version
from angler.errors import AnglerError

MODEL_NAME = "angler"
MODEL_ENV = "model.env"  # in each overlay
SERVING_BASE_PATH = "/models/angler"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class PromotionError(AnglerError):
    """A promotion file, a store or a version is not what it must be."""


@dataclass(frozen=True)
class Pin:
    version: int
    digest: str

    def __post_init__(self) -> None:
        if self.version < 1:
            raise PromotionError(f"model version must be a positive number, got {self.version}")
        if not _DIGEST.fullmatch(self.digest):
            raise PromotionError(
                f"model digest must be sha256:<64 hex digits>, got {self.digest!r}"
            )


@dataclass(frozen=True)
class Promotion:
    """The versions one environment serves: `stable`, and optionally a `canary`."""

    stable: Pin
    canary: Pin | None = None

    def pins(self) -> list[Pin]:
        return [self.stable] + ([self.canary] if self.canary else [])


def read_promotion(path: Path) -> Promotion:
    """model.env: ANGLER_MODEL_VERSION / _DIGEST, and optional ANGLER_CANARY_VERSION / _DIGEST."""
    if not path.exists():
        raise PromotionError(f"no promotion file at {path}")
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            if not sep:
                raise PromotionError(f"{path}:{number}: expected KEY=VALUE, got {line!r}")
            values[key.strip()] = value.strip()
    return promotion_from_env(values, str(path))


def promotion_from_env(values: Mapping[str, str], where: str = "environment") -> Promotion:
    """The same keys from environment variables (the serving pod gets model.env that way)."""
    try:
        stable = Pin(int(values["ANGLER_MODEL_VERSION"]), values["ANGLER_MODEL_DIGEST"])
        canary = None
        if values.get("ANGLER_CANARY_VERSION"):
            canary = Pin(int(values["ANGLER_CANARY_VERSION"]), values["ANGLER_CANARY_DIGEST"])
    except KeyError as err:
        raise PromotionError(f"{where}: missing {err.args[0]}") from None
    except ValueError as err:
        raise PromotionError(f"{where}: {err}") from None
    return Promotion(stable, canary)


def write_promotion(path: Path, promotion: Promotion) -> None:
    lines = [
        "# The model this environment serves. Written by `angler promote`; a promotion",
        "# changes only this file, and `git revert` of that commit rolls it back.",
        f"ANGLER_MODEL_VERSION={promotion.stable.version}",
        f"ANGLER_MODEL_DIGEST={promotion.stable.digest}",
    ]
    if promotion.canary:
        lines += [
            f"ANGLER_CANARY_VERSION={promotion.canary.version}",
            f"ANGLER_CANARY_DIGEST={promotion.canary.digest}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def model_server_config(promotion: Promotion, base_path: str = SERVING_BASE_PATH) -> str:
    """TF Serving's ModelServerConfig (text proto): only the pinned versions, labelled."""
    versions = "".join(f"        versions: {pin.version}\n" for pin in promotion.pins())
    labels = f'    version_labels {{ key: "stable" value: {promotion.stable.version} }}\n'
    if promotion.canary:
        labels += f'    version_labels {{ key: "canary" value: {promotion.canary.version} }}\n'
    return (
        "model_config_list {\n"
        "  config {\n"
        f'    name: "{MODEL_NAME}"\n'
        f'    base_path: "{base_path}"\n'
        '    model_platform: "tensorflow"\n'
        f"    model_version_policy {{\n      specific {{\n{versions}      }}\n    }}\n"
        f"{labels}"
        "  }\n"
        "}\n"
    )


def promote(model_dir: Path, store: str, promotion_file: Path, canary: bool = False) -> Promotion:
    """Publish the exported version to the store and pin it in the environment's file.

    As a canary it is served beside the current stable version under the `canary` label.
    """
    description = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    pin = Pin(int(description["version"]), description["digest"])
    publish_version(model_dir / str(pin.version), store, pin.version, pin.digest)
    current = read_promotion(promotion_file) if promotion_file.exists() else None
    if canary:
        if current is None:
            raise PromotionError(f"{promotion_file}: no stable version to run a canary beside")
        promotion = Promotion(current.stable, pin)
    else:
        promotion = Promotion(pin)
    write_promotion(promotion_file, promotion)
    return promotion


def fetch_model(store: str, promotion: Promotion, out: Path, config: Path) -> None:
    """The serving pod's init step: every pinned version, digest-checked, and the config."""
    for pin in promotion.pins():
        fetch_version(store, pin.version, pin.digest, out)
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(model_server_config(promotion, str(out)), encoding="utf-8")
