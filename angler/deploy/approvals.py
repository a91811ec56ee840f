"""The promotions a verdict approved, recorded in git beside the overlays.

`angler promote --verdict report.json` records the version and digest it pins, with the
verdict that approved it, in k8s/approvals.json; only a `promote` verdict is accepted. A
push to main refuses overlays that pin a model with no such record (`angler check-pins`):
a pin written by hand, or by a registry change, reaches production only through a pull
request that adds the record, in plain sight of its reviewers.
"""

from __future__ import annotations

import json
from pathlib import Path

from angler.deploy.serving import MODEL_ENV, Pin, read_promotion
from angler.errors import AnglerError

APPROVALS = Path("k8s/approvals.json")


class NotApproved(AnglerError):
    """A pin or a verdict that no promote verdict backs."""


def read_approvals(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    try:
        approvals = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise NotApproved(f"{path} is not valid JSON: {err}") from None
    if not isinstance(approvals, dict):
        raise NotApproved(f"{path} must hold an object of versions")
    return approvals


def record_approval(path: Path, pin: Pin, verdict_report: dict) -> None:
    """Add `pin` with the verdict of `verdict_report` (report.json of `angler report`)."""
    verdict = verdict_report.get("verdict", {})
    if verdict.get("decision") != "promote":
        decision = verdict.get("decision", "none")
        raise NotApproved(f"the verdict is {decision!r}, not 'promote': nothing to record")
    approvals = read_approvals(path)
    approvals[str(pin.version)] = {
        "digest": pin.digest,
        "reasons": verdict.get("reasons", []),
        "base": verdict_report.get("pull_request", {}).get("base_sha"),
    }
    ordered = dict(sorted(approvals.items(), key=lambda item: int(item[0])))
    path.write_text(json.dumps(ordered, indent=2) + "\n", encoding="utf-8")


def unapproved_pins(overlays: Path, approvals: dict[str, dict]) -> list[str]:
    """Every pin of every overlay whose version and digest no approval records."""
    problems = []
    for model_env in sorted(overlays.glob(f"*/{MODEL_ENV}")):
        for pin in read_promotion(model_env).pins():
            approved = approvals.get(str(pin.version), {})
            if approved.get("digest") != pin.digest:
                problems.append(
                    f"{model_env}: version {pin.version} ({pin.digest}) has no promote verdict "
                    f"in the approvals"
                )
    return problems
