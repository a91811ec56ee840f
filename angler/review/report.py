"""`angler report`: what a pull request did to the pipeline, compared with its base revision.

Collects the params diff and metrics diff from DVC, the stage summary from the lock files,
the data-check results, the ROC and PR curves of both revisions, the MLflow run and the
champion/challenger verdict into one dict; angler/review/markdown.py renders it as the PR comment.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import yaml

from angler.params import Params, ParamsError, PromotionRules, load_params, load_promotion_rules
from angler.reports import read_report
from angler.review.base_revision import (
    BaseUnavailable,
    dvc_json,
    fetch_output,
    git_show,
    reproduce_output,
    resolve,
)
from angler.review.shadow import failures, served_traffic
from angler.review.stage_changes import StageChange, stage_changes
from angler.review.verdict import Scores, Verdict, decide, floor_failures, paired_bootstrap

log = logging.getLogger(__name__)

EVALUATE_METRICS = "metrics/evaluate.json"
MODEL_STORE = "models/angler"
# Params whose change alters the test split, so main's model may have trained on test URLs.
SPLIT_PARAMS = ("base.seed", "data.", "split.")
ROC_GRID = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
RECALL_GRID = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0]


@dataclass(frozen=True)
class PullRequest:
    base: str  # the git revision compared with (e.g. the PR's base commit)
    base_name: str  # how to call it in the comment (e.g. "main")
    head_name: str = ""
    number: str = ""
    remote: bool = False  # whether this run had the DVC remote (else: public demo data)


def build_report(
    pr: PullRequest,
    root: Path = Path("."),
    rebuild_base: bool = True,
    traffic: str | None = None,
    allow_list: Path | None = None,
) -> dict:
    """Everything the PR comment shows, as plain data (also written as JSON beside it).
    Without the base's model in the cache or remote, `rebuild_base` reproduces it. With
    `traffic` (a folder or fsspec glob of served traffic), the shadow run on it."""
    pr = replace(pr, head_name=pr.head_name or checkout_name(root))
    try:
        params, params_error = load_params(root / "params.yaml"), None
    except ParamsError as err:  # the PR's typo: the comment says so instead of crashing
        params, params_error = None, str(err)
    base_sha = resolve(root, pr.base)
    stage_names = list(_read_yaml(root / "dvc.yaml")["stages"])
    base_lock = yaml.safe_load(git_show(root, base_sha, "dvc.lock") or "{}") or {}
    lock = _read_yaml(root / "dvc.lock")
    changes = stage_changes(stage_names, base_lock, lock, dvc_json(root, "status"))
    completed = all(change.state != "not completed" for change in changes)
    params_diff = dvc_json(root, "params", "diff", base_sha).get("params.yaml", {})
    report = {
        "pull_request": {**asdict(pr), "base_sha": base_sha},
        "data": {"corpus": params.data.corpus if params else None, "remote": pr.remote},
        "params": [
            {"name": name, "old": finite(change.get("old")), "new": finite(change.get("new"))}
            for name, change in sorted(params_diff.items())
        ],
        "stages": [asdict(change) for change in changes],
        "gate": data_gate(root / "reports" / "validate.json", changes),
        "completed": completed,
    }
    if completed:
        report["metrics"] = dvc_json(root, "metrics", "diff", base_sha, "--all")
        report["curves"] = curves(root, base_sha)
        report["mlflow"] = mlflow_run(root / "reports" / "train.json")
    try:
        rules = base_rules(root, base_sha)
    except ParamsError as err:
        report["verdict"] = Verdict("reject", [f"the base's promotion rules: {err}"]).to_dict()
        return report
    if params is None:
        result = Verdict("reject", [f"params.yaml is invalid: {params_error}"])
    else:
        if traffic and completed and _has_model(lock):
            shadow = rules.shadow or params.shadow  # the base's, if it has the section
            report["served_traffic"] = served_traffic(
                root, traffic, base_sha, shadow, rules.promote.confidence, allow_list
            )
        result = verdict(report, rules, root, base_sha, base_lock, rebuild_base)
    report["verdict"] = result.to_dict() | {
        "rules": {"judged_by": pr.base_name, "changed": changed_rules(rules, params)}
    }
    return report


def checkout_name(root: Path) -> str:
    """The checkout's branch, else its short commit (CI checks out a detached merge)."""
    for args in (["branch", "--show-current"], ["rev-parse", "--short", "HEAD"]):
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    return ""


def base_rules(root: Path, base_sha: str) -> PromotionRules:
    """The promotion rules of the base revision: a pull request's own `promote:` section (or
    seed) never judges its model, in the PR run or at merge."""
    where = f"params.yaml at {base_sha[:12]}"
    text = git_show(root, base_sha, "params.yaml")
    if text is None:
        raise ParamsError(f"{where} does not exist")
    return load_promotion_rules(text, where)


def changed_rules(base: PromotionRules, head: Params | None) -> list[dict]:
    """The rules this pull request would change, shown in the comment beside the base's."""
    if head is None:
        return []
    pairs = [("base.seed", base.seed, head.base.seed)] + [
        (f"promote.{name}", value, getattr(head.promote, name))
        for name, value in asdict(base.promote).items()
    ]
    return [{"name": name, "base": old, "head": new} for name, old, new in pairs if old != new]


def finite(value: object) -> object:
    """A param's value for JSON: NaN and infinities (which a PR may write) as text."""
    return str(value) if isinstance(value, float) and not np.isfinite(value) else value


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def data_gate(validate_report: Path, changes: list[StageChange]) -> dict:
    """The validate stage's outcome. Its report is written before the stage fails, so a
    failed gate is read from it; an earlier failure means it never ran."""
    report = read_report(validate_report)
    state = next(change.state for change in changes if change.stage == "validate")
    if report is None or (state == "not completed" and report["success"]):
        return {"ran": False}
    results = [result for suite in report["suites"].values() for result in suite["results"]]
    return {
        "ran": True,
        "success": report["success"],
        "checked": len(results),
        "failed": [
            {
                "suite": result["suite"],
                "expectation": result["expectation"],
                "column": result["column"],
                "observed": public_observation(result["observed"]),
                "details": result["details"],
            }
            for result in results
            if not result["success"]
        ],
    }


def public_observation(observed: object) -> object:
    """What a public comment may show of a failed expectation: numbers, counts, types and
    column names, never sample values or row ids of the private corpus."""
    if observed is None or isinstance(observed, bool | int | float | str):
        return observed
    if isinstance(observed, dict) and {"unexpected_count", "unexpected_percent"} & set(observed):
        return {k: observed[k] for k in ("unexpected_count", "unexpected_percent") if k in observed}
    names = isinstance(observed, dict) and all(
        isinstance(v, list) and all(isinstance(n, str) for n in v) for v in observed.values()
    )
    return observed if names else "(values not shown: they come from the corpus)"


def curves(root: Path, base_sha: str) -> dict:
    """ROC and PR curves of the test slice at fixed points, for the base and this PR."""
    result = {}
    for kind, x, y, grid in (
        ("roc", "fpr", "tpr", ROC_GRID),
        ("pr", "recall", "precision", RECALL_GRID),
    ):
        path = f"plots/{kind}_test.json"
        head = (root / path).read_text(encoding="utf-8") if (root / path).exists() else None
        result[kind] = {
            "x": grid,
            "base": _resample(git_show(root, base_sha, path), x, y, grid),
            "head": _resample(head, x, y, grid),
        }
    return result


def _resample(text: str | None, x: str, y: str, grid: list[float]) -> list[float] | None:
    points = json.loads(text) if text else []
    if not points:
        return None
    xs = np.array([point[x] for point in points])
    ys = np.array([point[y] for point in points])
    order = np.argsort(xs, kind="stable")
    return [round(float(v), 4) for v in np.interp(grid, xs[order], ys[order])]


def mlflow_run(train_report: Path) -> dict:
    """The run's id, found by the trained model's digest. Never the tracking URI: it can
    hold credentials, and the comment is public."""
    from angler.model import tracking

    digest = (read_report(train_report) or {}).get("model_sha256")
    if not digest:
        return {"run_id": None}
    tracking.configure()
    return {"run_id": tracking.find_run(digest)}


def verdict(
    report: dict,
    rules: PromotionRules,
    root: Path,
    base_sha: str,
    base_lock: dict,
    rebuild_base: bool = True,
) -> Verdict:
    gate = report["gate"]
    if gate["ran"] and not gate["success"]:
        failed = [f"{check['suite']}: {check['expectation']}" for check in gate["failed"]]
        return Verdict("reject", ["the data checks failed: " + "; ".join(failed)])
    if not report["completed"]:
        stopped = [s["stage"] for s in report["stages"] if s["state"] == "not completed"]
        return Verdict("reject", ["the pipeline did not complete: " + ", ".join(stopped)])
    candidate = read_report(root / EVALUATE_METRICS)["test"]
    if not _has_model(base_lock):
        return decide(candidate, None, rules.promote)
    scores = _scores(root / "data" / "scores" / "test.parquet")
    threshold = read_report(root / EVALUATE_METRICS)["operating_point"]["threshold"]
    try:
        champion = champion_scores(root, base_sha, scores["url"].tolist(), rebuild_base)
    except BaseUnavailable as err:
        reasons = floor_failures(candidate, rules.promote)
        if reasons:
            return Verdict("reject", reasons)
        how = (
            ""
            if rebuild_base
            else f"; `angler report --base {report['pull_request']['base']}` without "
            "--no-rebuild-base reproduces it"
        )
        return Verdict("hold", [f"cannot compare with the champion: {err}{how}"])
    comparisons = paired_bootstrap(
        scores["label"].to_numpy(dtype=int),
        scores["source"].to_numpy(),
        Scores(scores["score"].to_numpy(), threshold),
        champion,
        rules.promote.bootstrap_samples,
        rules.promote.confidence,
        rules.seed,
    )
    result = decide(candidate, comparisons, rules.promote)
    served = report.get("served_traffic", {})
    if served.get("status") == "compared" and rules.shadow is not None:
        if shadow_failures := failures(served, rules.shadow):
            kept = result.reasons if result.decision == "reject" else []
            result = Verdict("reject", shadow_failures + kept, comparisons, result.caveats)
    elif served.get("status") == "compared":
        result.caveats.append(
            f"{report['pull_request']['base_name']}'s params.yaml has no shadow: section, so "
            "the served-traffic rules were not applied"
        )
    if champion.threshold is None:
        result.caveats.append(
            "the champion was exported before models had an operating threshold, so the worst "
            "benign source's false-positive rate is not compared with it"
        )
    if any(p["name"].startswith(SPLIT_PARAMS) for p in report["params"]):
        result.caveats.append(
            f"this PR changes the data or the split, so {report['pull_request']['base_name']}'s "
            "model may have trained on some of these test URLs"
        )
    return result


def champion_scores(root: Path, base_sha: str, urls: list[str], rebuild: bool = True) -> Scores:
    """The base revision's exported model scoring `urls`, with the operating threshold its
    model.json records. The model comes from the DVC cache or remote, or else, with
    `rebuild`, from reproducing the base revision in a scratch worktree."""
    from angler.model.export import load_version, score_urls

    with tempfile.TemporaryDirectory() as scratch:
        store = Path(scratch) / "store"
        try:
            fetch_output(root, base_sha, MODEL_STORE, store)
        except BaseUnavailable as err:
            if not rebuild:
                raise
            log.warning("%s; reproducing the base revision's model instead", err)
            reproduce_output(root, base_sha, MODEL_STORE, store)
        version, folder = load_version(store)
        threshold = read_report(store / "model.json").get("operating_threshold")
        log.info("scoring %d test URLs with the champion (version %d)", len(urls), version)
        return Scores(score_urls(folder, urls), threshold)


def _has_model(lock: dict) -> bool:
    export = lock.get("stages", {}).get("export", {})
    return any(out["path"] == MODEL_STORE for out in export.get("outs", []))


def _scores(path: Path):
    import pandas as pd

    return pd.read_parquet(path, columns=["url", "label", "source", "score"])
