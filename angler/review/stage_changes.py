"""Which stages a pull request reran, which it took from the cache, and why.

Read from the lock files: a stage whose dvc.lock entry equals the base revision's ran with
the same command, inputs and params, so its outputs came from the DVC cache; any difference
is the reason it reran. Stages that `dvc status` still reports changed did not complete.
"""

from __future__ import annotations

from dataclasses import dataclass

from angler.reports import flatten


@dataclass(frozen=True)
class StageChange:
    stage: str
    state: str  # "cached", "reran" or "not completed"
    reasons: tuple[str, ...]


def stage_changes(
    stages: list[str], base_lock: dict, lock: dict, status: dict
) -> list[StageChange]:
    """One entry per dvc.yaml stage, in pipeline order."""
    base_stages = base_lock.get("stages", {})
    new_stages = lock.get("stages", {})
    changes = []
    for stage in stages:
        if stage in status:
            changes.append(StageChange(stage, "not completed", _status_reasons(status[stage])))
            continue
        base, new = base_stages.get(stage), new_stages.get(stage)
        if base == new:
            changes.append(StageChange(stage, "cached", ()))
        else:
            changes.append(StageChange(stage, "reran", _lock_reasons(base, new)))
    return changes


def _lock_reasons(base: dict | None, new: dict | None) -> tuple[str, ...]:
    if base is None:
        return ("new stage",)
    if new is None:
        return ("no lock entry",)
    reasons = []
    if base.get("cmd") != new.get("cmd"):
        reasons.append("command changed")
    old_params, new_params = _params(base), _params(new)
    params = sorted(
        k for k in old_params.keys() | new_params.keys() if old_params.get(k) != new_params.get(k)
    )
    if params:
        reasons.append("params changed: " + ", ".join(params))
    old_deps, new_deps = _hashes(base.get("deps", [])), _hashes(new.get("deps", []))
    deps = sorted(
        p for p in old_deps.keys() | new_deps.keys() if old_deps.get(p) != new_deps.get(p)
    )
    if deps:
        reasons.append("inputs changed: " + ", ".join(deps))
    return tuple(reasons) or ("same inputs, outputs not in the cache",)


def _status_reasons(entries: list) -> tuple[str, ...]:
    reasons = []
    for entry in entries:
        if isinstance(entry, str):
            reasons.append(entry)
            continue
        for kind, changed in entry.items():
            for path, what in changed.items():
                details = (
                    ", ".join(f"{k} {v}" for k, v in what.items())
                    if isinstance(what, dict)
                    else what
                )
                reasons.append(f"{kind}: {path} ({details})")
    return tuple(reasons)


def _params(entry: dict) -> dict:
    """Dotted keys: dvc.lock keeps whole sections nested under each params file."""
    return {
        key: value
        for values in entry.get("params", {}).values()
        for key, value in flatten(values).items()
    }


def _hashes(entries: list[dict]) -> dict[str, str]:
    return {entry["path"]: entry.get("md5") for entry in entries}
