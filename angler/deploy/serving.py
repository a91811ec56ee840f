"""What TF Serving serves: each environment's promotion file and the TF Serving model config
(the versions themselves live in the model store, angler/deploy/model_store.py).

- `k8s/overlays/<env>/model.env` pins the version and its SHA-256 digest: the only file a
  promotion changes, so git says what serves and `git revert` rolls back. It holds exactly
  the PIN_KEYS; any other key, a duplicate, an empty value, a malformed digest or version is
  refused by every reader (`angler promote`, `fetch-model`, the manifest tests), and the
  store location comes from k8s/base alone.
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
STABLE_KEYS = ("ANGLER_MODEL_VERSION", "ANGLER_MODEL_DIGEST")
CANARY_KEYS = ("ANGLER_CANARY_VERSION", "ANGLER_CANARY_DIGEST")
# Everything model.env may hold. The store location is not a pin: it comes from k8s/base only.
PIN_KEYS = STABLE_KEYS + CANARY_KEYS
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_VERSION = re.compile(r"[1-9][0-9]{0,9}")  # int() refuses 4,300 digits and more


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
    """model.env: ANGLER_MODEL_VERSION / _DIGEST, and optional ANGLER_CANARY_VERSION / _DIGEST.

    Nothing else: another key (a store, an endpoint), a key given twice, an empty value or a
    line that is not KEY=VALUE is refused, since kustomize would put it in the ConfigMap."""
    if not path.exists():
        raise PromotionError(f"no promotion file at {path}")
    # Bytes, not text mode, which would turn "\r\n" into "\n": the values kustomize sees.
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise PromotionError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    return parse_promotion(text, str(path))


def parse_promotion(text: str, where: str) -> Promotion:
    """The text of a model.env file, read as kustomize's `envs:` reads it (blank lines and
    `#` comments skipped, leading blanks dropped, the value verbatim after the first `=`)."""
    values: dict[str, str] = {}
    first_seen: dict[str, int] = {}
    for number, raw in enumerate(text.split("\n"), 1):  # as kustomize splits: "\r" stays
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        at = f"{where}:{number}"
        if not sep:
            raise PromotionError(f"{at}: expected KEY=VALUE, got {raw!r}")
        if key not in PIN_KEYS:
            raise PromotionError(
                f"{at}: unknown key {key!r}; {MODEL_ENV} holds only {', '.join(PIN_KEYS)}"
            )
        if key in first_seen:
            raise PromotionError(f"{at}: {key} given twice (first on line {first_seen[key]})")
        if not value:
            raise PromotionError(f"{at}: {key} is empty")
        values[key], first_seen[key] = value, number
    return _promotion(values, where)


def promotion_from_config_map(data: Mapping[str, str], where: str) -> Promotion:
    """A rendered `angler-model` ConfigMap's data: exactly the keys model.env may hold."""
    unknown = sorted(set(data) - set(PIN_KEYS))
    if unknown:
        raise PromotionError(f"{where}: unknown key(s) {', '.join(unknown)}")
    return _promotion(data, where)


def promotion_from_env(values: Mapping[str, str], where: str = "environment") -> Promotion:
    """The same keys from environment variables (the serving pod gets model.env that way).

    Only the four pin keys are read: the environment holds much else, and nothing else
    of it is taken for a pin."""
    return _promotion({key: values[key] for key in PIN_KEYS if key in values}, where)


def _promotion(values: Mapping[str, str], where: str) -> Promotion:
    for key in STABLE_KEYS:
        if key not in values:
            raise PromotionError(f"{where}: missing {key}")
    version, digest = CANARY_KEYS
    if (version in values) != (digest in values):
        given, missing = (version, digest) if version in values else (digest, version)
        raise PromotionError(f"{where}: {given} without {missing}")
    stable = _pin(values, *STABLE_KEYS, where)
    canary = _pin(values, *CANARY_KEYS, where) if version in values else None
    return Promotion(stable, canary)


def _pin(values: Mapping[str, str], version_key: str, digest_key: str, where: str) -> Pin:
    version, digest = values[version_key], values[digest_key]
    if not _VERSION.fullmatch(version):
        raise PromotionError(f"{where}: {version_key} must be a positive integer, got {version!r}")
    if not _DIGEST.fullmatch(digest):
        raise PromotionError(
            f"{where}: {digest_key} must be sha256:<64 hex digits>, got {digest!r}"
        )
    return Pin(int(version), digest)


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
    # The current file is checked before anything is published: a tampered one stops here.
    current = read_promotion(promotion_file) if promotion_file.exists() else None
    if not (model_dir / "model.json").exists():
        raise PromotionError(f"no exported model at {model_dir} (model.json is missing)")
    pin = exported_pin(model_dir / "model.json")
    publish_version(model_dir / str(pin.version), store, pin.version, pin.digest)
    if canary:
        if current is None:
            raise PromotionError(f"{promotion_file}: no stable version to run a canary beside")
        promotion = Promotion(current.stable, pin)
    else:
        promotion = Promotion(pin)
    write_promotion(promotion_file, promotion)
    return promotion


def exported_pin(model_json: Path) -> Pin:
    """The version and digest the export stage wrote in model.json."""
    try:
        description = json.loads(model_json.read_text(encoding="utf-8"))
        version, digest = description["version"], description["digest"]
    except (ValueError, KeyError, TypeError) as err:
        raise PromotionError(f"{model_json} has no version and digest ({err!r})") from None
    if not isinstance(version, int) or isinstance(version, bool) or not isinstance(digest, str):
        raise PromotionError(f"{model_json}: version must be a number and digest a string")
    if version == 0:
        raise PromotionError(
            f"{model_json}: the model is not registered (version 0); export it again with "
            "ANGLER_REGISTER=1 to register it in the tracking server"
        )
    return Pin(version, digest)


def promote_pinned(
    source_file: Path, store: str, promotion_file: Path, version: int, scratch: Path
) -> Promotion:
    """Pin in `promotion_file` the stable version `source_file` pins (production takes what
    staging serves), once the store is seen to hold it intact: fetched into `scratch` and
    digest-checked, as a serving pod would. `version` is the one a person saw healthy."""
    pin = read_promotion(source_file).stable
    if pin.version != version:
        raise PromotionError(
            f"{source_file} pins version {pin.version}, not {version}: promote what it serves"
        )
    if promotion_file.exists():
        read_promotion(promotion_file)  # a tampered file stops here, before anything changes
    fetch_version(store, pin.version, pin.digest, scratch)
    promotion = Promotion(pin)
    write_promotion(promotion_file, promotion)
    return promotion


def fetch_model(store: str, promotion: Promotion, out: Path, config: Path) -> None:
    """The serving pod's init step: every pinned version, digest-checked, and the config."""
    for pin in promotion.pins():
        fetch_version(store, pin.version, pin.digest, out)
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(model_server_config(promotion, str(out)), encoding="utf-8")
