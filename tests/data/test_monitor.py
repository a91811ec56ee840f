"""The monitor on synthetic traffic: no drift where there is none, drift where the TLD mix
or the scores move, and clear errors for traffic it cannot read."""

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from angler.data.served import TrafficError, collect_traffic
from angler.data.urls import UrlError, parse_url
from angler.errors import AnglerError
from angler.monitor.reference import Reference, class_weights, measure_drift
from angler.monitor.traffic import load_traffic
from angler.params import load_params

from helpers.paths import REPO_ROOT

PARAMS = load_params(REPO_ROOT / "params.yaml")
LIMITS = PARAMS.monitor
TOKENS = PARAMS.featurize.suspicious_tokens
OLD_TLDS = ("com", "net", "org", "de", "jp")
NEW_TLDS = ("zip", "mov", "quest")  # none of them in the reference
_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))
_WORDS = ["".join(np.random.default_rng(i).choice(_LETTERS, 4 + i % 8)) for i in range(300)]


def synthetic(seed: int, n: int, phishing_share: float, tlds=OLD_TLDS) -> pd.DataFrame:
    """URLs of two kinds: phishing with long hyphenated hosts and login paths, benign short."""
    rng = np.random.default_rng(seed)
    phishing = rng.random(n) < phishing_share
    rows = []
    for is_phishing in phishing:
        word = rng.choice(_WORDS)
        tld = rng.choice(tlds)
        if is_phishing:
            url = f"http://secure-{word}-verify.{tld}/login/{word}.php?id={rng.integers(1e6)}"
        else:
            url = f"https://www.{word}.{tld}/" + "/".join(rng.choice(_WORDS, rng.integers(0, 3)))
        rows.append(url)
    scores = np.where(phishing, rng.beta(20, 1, n), rng.beta(1, 20, n))
    return pd.DataFrame({"url": rows, "score": scores, "label": phishing.astype(int)})


def featurized(frame: pd.DataFrame, tmp_path, name: str):
    path = tmp_path / f"{name}.parquet"
    frame.to_parquet(path, index=False)
    return load_traffic([path], TOKENS, 8192)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Reference:
    """A corpus-like reference: mostly phishing, reweighted to the traffic's class mix."""
    sample = synthetic(seed=1, n=12000, phishing_share=0.7)
    traffic = featurized(sample, tmp_path_factory.mktemp("reference"), "reference")
    features = traffic.features.assign(label=sample["label"].to_numpy())
    weights = class_weights(features["label"], LIMITS.traffic_phishing_share)
    return Reference(
        features,
        weights,
        sample["score"].to_numpy(),
        weights,
        tlds=frozenset(features["tld"]),
        domains=frozenset(features["registered_domain"]),
    )


def test_an_unchanged_sample_gives_psi_near_zero(reference, tmp_path):
    traffic = featurized(synthetic(seed=2, n=4000, phishing_share=0.1), tmp_path, "same")
    result = measure_drift(reference, traffic, LIMITS)
    assert max(values["psi"] for values in result["features"].values()) < 0.05
    assert result["tld"]["psi"] < 0.05 and result["tld"]["unseen_share"] == 0
    assert result["score"]["psi"] < 0.05
    assert result["exceeded"] == [] and result["drift"] is False


def test_without_reweighting_the_class_mix_alone_looks_like_drift(reference, tmp_path):
    traffic = featurized(synthetic(seed=2, n=4000, phishing_share=0.1), tmp_path, "same")
    unweighted = dataclasses.replace(
        reference,
        weights=np.ones(len(reference.weights)),
        score_weights=np.ones(len(reference.scores)),
    )
    assert measure_drift(unweighted, traffic, LIMITS)["drift"] is True


def test_a_new_tld_mix_exceeds_the_limits(reference, tmp_path):
    shifted = synthetic(seed=3, n=4000, phishing_share=0.1, tlds=OLD_TLDS[:2] + NEW_TLDS)
    result = measure_drift(reference, featurized(shifted, tmp_path, "new_tlds"), LIMITS)
    assert result["tld"]["unseen_share"] > 0.5
    assert set(result["tld"]["top_unseen"]) == set(NEW_TLDS)
    exceeded = [line.split()[0] for line in result["exceeded"]]
    assert {"tld.psi", "tld.unseen_share"} <= set(exceeded)
    assert result["drift"] is True


def test_lower_scores_for_the_same_urls_exceed_the_score_limits(reference, tmp_path):
    sample = synthetic(seed=2, n=4000, phishing_share=0.1)
    sample["score"] = sample["score"] * 0.5  # the model has stopped recognising phishing
    result = measure_drift(reference, featurized(sample, tmp_path, "scores"), LIMITS)
    exceeded = {line.split()[0] for line in result["exceeded"]}
    assert {"score.psi", "score.ks", "score.max_quantile_shift"} <= exceeded
    assert not any(name.startswith("features.") for name in exceeded)


def test_malformed_rows_are_quarantined_with_their_reason(tmp_path):
    frame = pd.DataFrame(
        {
            "url": ["http://example.com/a", "javascript:void(0)", None, "http://b.org", ""],
            "score": [0.1, 0.2, 0.3, 1.7, 0.5],
        }
    )
    traffic = featurized(frame, tmp_path, "dirty")
    assert traffic.rows_in == 5 and len(traffic.features) == 1
    reasons = traffic.quarantined.set_index("row")["reason"].to_dict()
    assert reasons == {
        1: "unsupported scheme 'javascript'",
        2: "empty URL",
        3: "score missing or not in [0, 1]",
        4: "empty URL",
    }


def test_too_few_usable_urls_is_an_error_not_a_verdict(reference, tmp_path):
    traffic = featurized(synthetic(seed=4, n=50, phishing_share=0.1), tmp_path, "few")
    with pytest.raises(AnglerError, match="50 usable traffic URLs, fewer than"):
        measure_drift(reference, traffic, LIMITS)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.parquet", pd.DataFrame({"url": [], "score": []}), "has no rows"),
        ("zero.parquet", b"", "is not readable Parquet"),
        ("broken.parquet", b"PAR1 not really", "is not readable Parquet"),
        ("empty.csv", b"", "is empty"),
        ("header.csv", b"url,score\n", "has no rows"),
        ("urls.csv", b"url\nhttp://a.com\n", "lacks column(s) score"),
    ],
)
def test_unusable_traffic_files_are_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, pd.DataFrame):
        content.to_parquet(path)
    else:
        path.write_bytes(content)
    with pytest.raises(TrafficError, match=re.escape(message)) as error:
        load_traffic([path], TOKENS, 8192)
    assert name in str(error.value)


def monitor_command(tmp_path, traffic) -> subprocess.CompletedProcess:
    """`angler monitor` as dvc.yaml runs it, on a synthetic reference."""
    sample = synthetic(seed=1, n=3000, phishing_share=0.7)
    features = featurized(sample, tmp_path, "reference_urls").features
    features.assign(label=sample["label"], split="test").to_parquet(tmp_path / "features.parquet")
    sample[["label", "score"]].to_parquet(tmp_path / "scores.parquet")
    angler = str(Path(sys.executable).parent / "angler")
    command = [angler, "monitor", "--traffic", str(traffic)]
    for option, path in [
        ("--features", "features.parquet"),
        ("--scores", "scores.parquet"),
        ("--report", "drift.json"),
        ("--plot", "drift.png"),
        ("--quarantine", "quarantine.csv"),
        ("--params", str(REPO_ROOT / "params.yaml")),
    ]:
        command += [option, str(tmp_path / path)]
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)


def test_the_stage_reports_no_traffic_then_drift(tmp_path):
    traffic = tmp_path / "traffic"
    traffic.mkdir()
    result = monitor_command(tmp_path, traffic)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "drift.json").read_text())["status"] == "no traffic"
    assert (tmp_path / "drift.png").stat().st_size > 0

    synthetic(seed=5, n=1000, phishing_share=0.1, tlds=NEW_TLDS)[["url", "score"]].to_csv(
        traffic / "day.csv", index=False
    )
    result = monitor_command(tmp_path, traffic)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "drift.json").read_text())
    assert report["status"] == "drift" and report["rows_out"] == 1000
    assert report["drift"] is True and report["tld"]["unseen_share"] == 1.0
    assert (tmp_path / "drift.png").read_bytes()[:4] == b"\x89PNG"


def test_the_stage_turns_a_broken_file_into_one_line(tmp_path):
    traffic = tmp_path / "traffic"
    traffic.mkdir()
    (traffic / "today.parquet").write_bytes(b"")
    result = monitor_command(tmp_path, traffic)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "angler monitor: error: traffic file" in result.stderr


def test_collect_traffic_replaces_the_folder_with_the_interval_files(tmp_path):
    logs = tmp_path / "logs" / "2026-11-01"
    logs.mkdir(parents=True)
    synthetic(seed=6, n=10, phishing_share=0.1).to_parquet(logs / "part-0.parquet")
    traffic = tmp_path / "traffic"
    traffic.mkdir()
    (traffic / "yesterday.parquet").write_bytes(b"old")
    (traffic / "README.md").write_text("kept")
    assert collect_traffic(
        str(tmp_path / "logs" / "{ds}" / "*.parquet").format(ds="2026-11-01"), traffic
    ) == ["part-0.parquet"]
    assert sorted(p.name for p in traffic.iterdir()) == ["README.md", "part-0.parquet"]
    with pytest.raises(TrafficError, match="no traffic files match"):
        collect_traffic(str(tmp_path / "logs" / "2026-11-02" / "*.parquet"), traffic)


def hostile_urls(seed: int = 7, n: int = 40) -> list[str]:
    """URLs that once stopped a stage, and a seeded fuzz of digit-like and combining Unicode
    in the port and the host (no surrogates or line breaks: traffic files are UTF-8)."""
    pool = "0123456789²³¹⁰０８９٣۵०①⒈𝟖\u0300\u0301\u0308\u20ddｅｘ：．"
    rng = np.random.default_rng(seed)
    fuzzed = []
    for i in range(n):
        text = "".join(rng.choice(list(pool), rng.integers(1, 9)))
        fuzzed.append(f"http://example.com:{text}²/" if i % 2 else f"http://{text}.com/a")
    return ["http://example.com:²/", "http://example.com:" + "9" * 5000 + "/", *fuzzed]


def expected_reasons(urls: list[str]) -> list[tuple[str, str]]:
    """(URL, reason) of each URL the parser rejects, in order."""
    reasons = []
    for raw in urls:
        try:
            parse_url(raw)
        except UrlError as err:
            reasons.append((raw, str(err)))
    return reasons


def test_unicode_ports_and_hosts_are_quarantined_not_fatal(tmp_path):
    good = ["http://example.com/a", "https://shop.example.org:8443/cart"]
    hostile = hostile_urls()
    frame = pd.DataFrame({"url": good + hostile, "score": 0.5})
    traffic = featurized(frame, tmp_path, "unicode")
    expected = expected_reasons(hostile)
    assert expected[:2] == [
        ("http://example.com:²/", "invalid port"),
        ("http://example.com:" + "9" * 5000 + "/", "invalid port"),
    ]
    assert sum(reason == "invalid port" for _, reason in expected) == 22  # + fuzzed hosts
    quarantined = traffic.quarantined[["raw_url", "reason"]].itertuples(index=False)
    assert [tuple(row) for row in quarantined] == expected
    assert len(traffic.features) == len(frame) - len(expected)  # good URLs all kept
    assert traffic.rows_in == len(frame) == len(traffic.features) + len(traffic.quarantined)


def test_an_unexpected_parser_error_quarantines_only_that_row(tmp_path, monkeypatch):
    import angler.monitor.traffic

    real_parse = angler.monitor.traffic.parse_url

    def buggy(raw, max_length):
        if raw == "http://bug.example.com/":
            raise RecursionError("parser bug")
        return real_parse(raw, max_length)

    monkeypatch.setattr(angler.monitor.traffic, "parse_url", buggy)
    frame = pd.DataFrame({"url": ["http://example.com/", "http://bug.example.com/"], "score": 0.5})
    traffic = featurized(frame, tmp_path, "bug")
    assert traffic.quarantined[["row", "reason"]].values.tolist() == [
        [1, "unparseable URL (RecursionError)"]
    ]
    assert len(traffic.features) == 1 and traffic.rows_in == 2
