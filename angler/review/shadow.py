"""The shadow verdict: what a candidate model would change for the traffic already served.

The newest window of served traffic (each URL with the score it was served) is scored by the
candidate at its operating threshold and compared with what was served: the champion's
decision at its threshold, recomputed from the served score. The traffic has no labels, so
this reports change, not accuracy: URLs and sites newly flagged and newly cleared, the flag
rate overall (its change with a confidence interval) and per kind of site (a shared platform
such as blogspot.com, else the public suffix), and the newly flagged sites an allow list
vouches for (the benign sources' sites): probable false positives.

Served URLs are users' browsing and may carry tokens, so nothing but counts, rates and
registered domains leaves this module.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from angler.data.served import collect_traffic, read_traffic_file, traffic_files
from angler.data.urls import parse_url
from angler.errors import AnglerError
from angler.params import ShadowParams

TOP = 10  # sites and kinds listed

log = logging.getLogger(__name__)


def read_window(folder: Path, window_urls: int) -> tuple[pd.DataFrame, dict]:
    """The newest `window_urls` usable rows (`url`, served `score`, `time` where the files
    have it) of a traffic folder, and what was read: files, rows, rows left out as unusable
    (no URL, a score outside [0, 1]) and the window's first and last time."""
    files = traffic_files(folder)  # the caller has checked there is one
    rows = pd.concat(
        [read_traffic_file(path).reindex(columns=["url", "score", "time"]) for path in files],
        ignore_index=True,
    )
    scores = pd.to_numeric(rows["score"], errors="coerce")
    usable = rows["url"].map(lambda url: isinstance(url, str) and url.strip() != "")
    usable = usable.astype(bool) & scores.between(0, 1)
    window = pd.DataFrame(
        {
            "url": rows["url"][usable].astype(str),
            "score": scores[usable].astype(float),
            "time": pd.to_datetime(rows["time"][usable], errors="coerce", utc=True),
        }
    )
    window = window.sort_values("time", kind="stable", na_position="first").tail(window_urls)
    stamps = window["time"].dropna()
    read = {
        "files": len(files),
        "rows": len(rows),
        "unusable": int((~usable).sum()),
        "period": [str(stamps.min()), str(stamps.max())] if len(stamps) else None,
    }
    return window.reset_index(drop=True), read


def site_and_kind(url: str) -> tuple[str, str]:
    """A URL's registered domain and kind of site: `platform <name>` for a site on a shared
    platform (a blog on blogspot.com), else `.<public suffix>`, or `IP address`."""
    try:
        parsed = parse_url(url)
    except Exception:  # UrlError, or a parser bug: it costs this URL's site, not the report
        return "", "not a parseable URL"
    if parsed.is_ip:
        return parsed.registered_domain, "IP address"
    public = ".".join(parsed.registered_domain.split(".")[-(parsed.suffix.count(".") + 2) :])
    if public != parsed.registered_domain:
        return parsed.registered_domain, f"platform {public}"
    return parsed.registered_domain, f".{parsed.suffix}"


def compare(
    window: pd.DataFrame,
    candidate_scores: np.ndarray,
    served_threshold: float,
    candidate_threshold: float,
    allow_list: set[str],
    confidence: float,
) -> dict:
    """What the candidate changes in the window: counts, rates, the interval of the flag
    rate's change (paired: the same URLs), and the top sites and kinds that move."""
    served = window["score"].to_numpy() >= served_threshold
    candidate = np.asarray(candidate_scores) >= candidate_threshold
    n = len(window)
    labelled = pd.DataFrame(
        [site_and_kind(url) for url in window["url"]], columns=["site", "kind"], index=window.index
    )
    labelled["served"], labelled["candidate"] = served, candidate
    new, cleared = candidate & ~served, served & ~candidate
    change = (new.sum() - cleared.sum()) / n
    spread = np.sqrt(max(new.sum() + cleared.sum() - n * change**2, 0.0)) / n
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    newly_flagged = _sites(labelled[new], allow_list)
    newly_cleared = _sites(labelled[cleared], allow_list)
    return {
        "status": "compared",
        "urls": n,
        "thresholds": {"served": served_threshold, "candidate": candidate_threshold},
        "flagged": {"served": int(served.sum()), "candidate": int(candidate.sum())},
        "flag_rate": {
            "served": float(served.mean()),
            "candidate": float(candidate.mean()),
            "change": float(change),
            "low": float(change - z * spread),
            "high": float(change + z * spread),
            "confidence": confidence,
        },
        "agreement": float((served == candidate).mean()),
        "newly_flagged": {
            "urls": int(new.sum()),
            "sites": len(newly_flagged),
            "allow_listed_sites": sum(row["allow_listed"] for row in newly_flagged),
            "top": newly_flagged[:TOP],
        },
        "newly_cleared": {
            "urls": int(cleared.sum()),
            "sites": len(newly_cleared),
            "top": newly_cleared[:TOP],
        },
        "by_kind": _kinds(labelled),
    }


def failures(summary: dict, rules: ShadowParams) -> list[str]:
    """The shadow rules the candidate breaks, each with its reason."""
    reasons = []
    rate = summary["flag_rate"]
    if rate["change"] > rules.max_flag_rate_increase:
        reasons.append(
            f"on the served traffic it would flag {rate['change']:+.2%} of URLs more than was "
            f"served ({rate['served']:.2%} -> {rate['candidate']:.2%}), over "
            f"{rules.max_flag_rate_increase:.2%} (shadow.max_flag_rate_increase)"
        )
    allow_listed = summary["newly_flagged"]["allow_listed_sites"]
    if allow_listed > rules.max_allow_listed_newly_flagged:
        reasons.append(
            f"on the served traffic it would newly flag {allow_listed} sites of the allow list, "
            f"over {rules.max_allow_listed_newly_flagged} (shadow.max_allow_listed_newly_flagged)"
        )
    return reasons


def _sites(rows: pd.DataFrame, allow_list: set[str]) -> list[dict]:
    """Sites by how many of `rows` they have, most first, then by name."""
    counts = rows[rows["site"] != ""].groupby("site").size()
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"site": s, "urls": int(c), "allow_listed": s in allow_list} for s, c in ordered]


def _kinds(labelled: pd.DataFrame) -> list[dict]:
    """Per kind of site, the flag rate served and the candidate's; those that move most."""
    grouped = labelled.groupby("kind").agg(
        urls=("site", "size"), served=("served", "sum"), candidate=("candidate", "sum")
    )
    grouped["moved"] = (grouped["candidate"] - grouped["served"]).abs()
    grouped = grouped[grouped["moved"] > 0].sort_values(["moved", "urls"], ascending=False)
    return [
        {
            "kind": kind,
            "urls": int(row.urls),
            "served": float(row.served / row.urls),
            "candidate": float(row.candidate / row.urls),
        }
        for kind, row in grouped.head(TOP).iterrows()
    ]


def served_traffic(
    root: Path,
    source: str,
    base_sha: str,
    shadow: ShadowParams,
    confidence: float,
    allow_list: Path | None = None,
) -> dict:
    """The shadow run of the PR report: the window of `source` (a traffic folder, or an
    fsspec glob such as s3://logs/angler/*/*.parquet, read-only), scored by the candidate in
    `root`'s model store and compared with what the base revision's model served."""
    import tempfile

    from angler.model.export import load_version, score_urls
    from angler.review.base_revision import git_show

    served = json.loads(git_show(root, base_sha, "metrics/evaluate.json") or "{}")
    served_threshold = served.get("operating_point", {}).get("threshold")
    if served_threshold is None:
        return {"status": "the base revision has no operating threshold to recompute"}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(source)
        try:
            if "://" in source:
                folder = Path(scratch)
                collect_traffic(source, folder)
            if not folder.is_dir() or not traffic_files(folder):
                return {"status": "no served traffic"}
            window, read = read_window(folder, shadow.window_urls)
        except AnglerError as err:  # an unreadable file: the report goes on without it
            return {"status": f"served traffic not read: {err}"}
    if window.empty:
        return {"status": "no served traffic"} | read
    store = root / "models" / "angler"
    _, saved_model = load_version(store)
    threshold = json.loads((store / "model.json").read_text(encoding="utf-8"))
    log.info("shadow run: scoring %d served URLs with the candidate", len(window))
    scores = score_urls(saved_model, window["url"].tolist())
    vouched = benign_sites(root / "data" / "features", allow_list)
    summary = compare(
        window, scores, served_threshold, threshold["operating_threshold"], vouched, confidence
    )
    return summary | read


def benign_sites(features: Path, allow_list: Path | None) -> set[str]:
    """The allow list: the registered domains of the corpus's benign URLs, and those of a
    list (one domain a line; `#` comments), such as a top-sites list."""
    table = pd.read_parquet(features, columns=["registered_domain", "label"])
    sites = set(table.loc[table["label"] == 0, "registered_domain"])
    if allow_list is not None:
        lines = allow_list.read_text(encoding="utf-8").splitlines()
        sites |= {line.split("#")[0].strip().lower() for line in lines} - {""}
    return sites
