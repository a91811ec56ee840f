"""The deployment ledger: what the trusted promote jobs approved and pinned, kept in the model
store, where a pull request cannot write.

- `<store>/ledger/approved/<version>.json`: the version's digest and the `promote` verdict the
  trusted `promote` job computed for it (its reasons, the revisions compared, the MLflow run
  and the SHA-256 of the report.json the verdict came from). Written by `angler promote
  --verdict`.
- `<store>/ledger/<env>/<version>.json`: the version was pinned in that environment by a
  promote job. Staging is pinned by `angler promote --env staging --verdict`; production only
  by `angler promote --from-env staging`, once staging pins the version.

Records are written once and never changed (a second write of the same digest keeps the
first). A pin in an overlay is backed when its version's
approval has its digest and its environment's record exists: a production pin is then a
version production took from staging, now or before (a rollback returns only to a version
production ran). `angler check-pins` (before merge and on every push to main) and `angler
fetch-model --env` (in every serving pod) refuse any other pin. The git history of
k8s/overlays is what a reviewer reads; the ledger is what is trusted.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from angler.deploy.model_store import store_filesystem, write_object
from angler.deploy.serving import MODEL_ENV, Pin, read_promotion
from angler.errors import AnglerError

_ENV = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
TAKES_FROM = {"production": "staging"}  # an environment pinned only with what another pins


class NotApproved(AnglerError):
    """A pin or a verdict that the ledger does not back."""


class LedgerConflict(AnglerError):
    """A ledger record that exists with other contents: records are never changed."""


def record_approval(store: str, pin: Pin, report_bytes: bytes) -> None:
    """Record that the verdict in `report_bytes` (report.json of `angler report`) approved
    `pin`; refused unless its decision is `promote`."""
    try:
        report = json.loads(report_bytes)
    except ValueError as err:
        raise NotApproved(f"the verdict report is not valid JSON: {err}") from None
    verdict = report.get("verdict") if isinstance(report, dict) else None
    decision = verdict.get("decision") if isinstance(verdict, dict) else None
    if decision != "promote":
        raise NotApproved(f"the verdict is {decision or 'missing'!r}, not 'promote': not recorded")
    _write_once(
        store,
        f"approved/{pin.version}.json",
        {
            "version": pin.version,
            "digest": pin.digest,
            "reasons": verdict.get("reasons", []),
            "base_sha": report.get("pull_request", {}).get("base_sha"),
            "mlflow_run_id": (report.get("mlflow") or {}).get("run_id"),
            "report_sha256": hashlib.sha256(report_bytes).hexdigest(),
        },
    )


def record_pin(store: str, env: str, pin: Pin) -> None:
    """Record that a promote job pinned `pin` in `env`: only an approved version, and in
    production only one that staging pinned."""
    if _read(store, f"approved/{pin.version}.json").get("digest") != pin.digest:
        raise NotApproved(f"version {pin.version} ({pin.digest}) has no promote verdict")
    source = TAKES_FROM.get(env)
    if source and pin_problem(store, source, pin):
        raise NotApproved(
            f"version {pin.version} goes to {env} only from {source}: "
            f"`angler promote --env {env} --from-env {source} --version {pin.version}`"
        )
    _write_once(store, f"{_checked_env(env)}/{pin.version}.json", {"digest": pin.digest})


def pin_problem(store: str, env: str, pin: Pin) -> str | None:
    """Why the ledger does not back `pin` in `env`, or None when it does."""
    env = _checked_env(env)
    approved = _read(store, f"approved/{pin.version}.json")
    if approved.get("digest") != pin.digest:
        return f"version {pin.version} ({pin.digest}) has no promote verdict in the ledger"
    if _read(store, f"{env}/{pin.version}.json").get("digest") != pin.digest:
        how = (
            "production takes only what staging pinned (`angler promote --from-env staging`) "
            "or a version it ran before"
            if env == "production"
            else "only a promote job pins it"
        )
        return f"version {pin.version} was never pinned in {env} by a promote job: {how}"
    return None


def unbacked_pins(overlays: Path, store: str) -> list[str]:
    """One line per pin of every overlay that the ledger does not back."""
    problems = []
    for model_env in sorted(overlays.glob(f"*/{MODEL_ENV}")):
        for pin in read_promotion(model_env).pins():
            problem = pin_problem(store, model_env.parent.name, pin)
            if problem:
                problems.append(f"{model_env}: {problem}")
    return problems


def _checked_env(env: str) -> str:
    if not _ENV.fullmatch(env) or env == "approved":
        raise AnglerError(f"environment name {env[:80]!r} is not a lower-case overlay name")
    return env


def _read(store: str, name: str) -> dict:
    fs, root = store_filesystem(store)
    path = f"{root.rstrip('/')}/ledger/{name}"
    try:
        record = json.loads(fs.cat_file(path))
    except FileNotFoundError:
        return {}
    except (ValueError, UnicodeDecodeError) as err:
        raise AnglerError(f"{store}/ledger/{name} is not valid JSON: {err}") from None
    except OSError as err:
        raise AnglerError(f"cannot read {store}/ledger/{name}: {err}") from None
    if not isinstance(record, dict):
        raise AnglerError(f"{store}/ledger/{name} must hold an object")
    return record


def _write_once(store: str, name: str, record: dict) -> None:
    """Write the record unless it is there; the first record of a digest stays (a promote
    job run again keeps the verdict it recorded first)."""
    existing = _read(store, name)
    if existing.get("digest") == record["digest"]:
        return
    if existing:
        raise LedgerConflict(
            f"{store}/ledger/{name} records digest {existing.get('digest')}, not "
            f"{record['digest']}; ledger records are never changed"
        )
    fs, root = store_filesystem(store)
    data = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()
    write_object(fs, f"{root.rstrip('/')}/ledger/{name}", data)
