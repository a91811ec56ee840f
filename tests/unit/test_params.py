import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from angler.params import ParamsError, load_params

from helpers.paths import REPO_ROOT, write_params


def numeric_keys() -> list[str]:
    """Every `section.key` of params.yaml that holds a number."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    return [
        f"{section}.{key}"
        for section, values in params.items()
        for key, value in values.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]


# A value outside each number's meaning: negative counts, fractions above 1, a zero batch.
OUT_OF_RANGE = {
    "base.seed": -1,
    "data.demo_size": -5,
    "data.max_url_length": 0,
    "data.sample_fraction": 0.0,
    "split.validation_fraction": -0.1,
    "split.test_fraction": 1.5,
    "split.temporal_months": -1,
    "featurize.shards": 0,
    "validate.min_rows": -1,
    "validate.min_phishing_share": 1.5,
    "validate.max_phishing_share": -0.5,
    "validate.min_url_length": -1,
    "validate.max_duplicate_rate": 2.0,
    "validate.max_shortcut_auc": 0.4,
    "model.max_url_bytes": 0,
    "model.max_length": 0,
    "model.ngram_buckets": 0,
    "model.bag_dim": 0,
    "model.piece_dropout": 1.0,
    "model.byte_embedding_dim": 0,
    "model.conv_filters": -1,
    "model.hidden_units": 0,
    "model.dropout": 1.5,
    "model.tfidf_c": -1.0,
    "train.epochs": 0,
    "train.batch_size": 0,
    "train.learning_rate": 0.0,
    "train.early_stopping_patience": -1,
    "train.max_train_rows": -1,
    "train.shuffle_buffer": -1,
    "evaluate.target_fpr": 0.0,
    "evaluate.histogram_bins": 0,
    "evaluate.curve_points": 1,
    "export.warmup_requests": -1,
    "promote.bootstrap_samples": 10,
    "promote.confidence": 1.0,
    "promote.max_roc_auc_loss": 1.5,
    "promote.max_tpr_loss": -0.1,
    "promote.max_benign_fpr_increase": 2.0,
    "promote.min_roc_auc": 1.01,
    "promote.min_tpr_at_fpr_1pct": -0.5,
    "promote.max_worst_benign_fpr": 1.5,
    "shadow.window_urls": 0,
    "shadow.max_flag_rate_increase": 1.5,
    "shadow.max_allow_listed_newly_flagged": -1,
    "monitor.traffic_phishing_share": 1.0,
    "monitor.min_traffic_urls": 0,
    "monitor.psi_bins": 1,
    "monitor.max_psi": -0.1,
    "monitor.max_ks": 1.5,
    "monitor.max_unseen_tld_share": -1.0,
    "monitor.max_unseen_domain_share": 1.5,
    "monitor.max_score_quantile_shift": 2.0,
}


def test_every_numeric_param_has_an_out_of_range_case():
    assert sorted(OUT_OF_RANGE) == sorted(numeric_keys())


@pytest.mark.parametrize("key", sorted(OUT_OF_RANGE))
def test_an_out_of_range_value_names_its_key(tmp_path, key):
    with pytest.raises(ParamsError, match=rf"^{key}: must be "):
        load_params(write_params(tmp_path / "params.yaml", **{key: OUT_OF_RANGE[key]}))


def float_keys() -> list[str]:
    params = load_params(REPO_ROOT / "params.yaml")
    return [
        key
        for key in numeric_keys()
        if isinstance(getattr(getattr(params, key.split(".")[0]), key.split(".")[1]), float)
    ]


@pytest.mark.parametrize("key", float_keys())
def test_nan_and_infinity_are_refused_where_a_float_is_read(tmp_path, key):
    for value in (math.nan, math.inf, -math.inf):
        with pytest.raises(ParamsError, match=rf"^{key}: must be a finite number"):
            load_params(write_params(tmp_path / "params.yaml", **{key: value}))


def test_a_nan_floor_in_the_cli_is_one_line_and_exit_2(tmp_path):
    """The attack of issue 28: `promote.min_roc_auc: .nan` makes every comparison false."""
    write_params(tmp_path / "params.yaml", **{"promote.min_roc_auc": math.nan})
    angler = Path(sys.executable).with_name("angler")
    command = [angler, "split", "--labelled", "in", "--out", "out", "--report", "split.json"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "angler split: error: promote.min_roc_auc: must be a finite number, got nan"
    ]
    assert not (tmp_path / "out").exists()


def test_repository_params_load():
    params = load_params(REPO_ROOT / "params.yaml")
    assert params.data.corpus == "demo"
    assert params.data.corpus_path(REPO_ROOT) is None
    assert isinstance(params.featurize.suspicious_tokens, tuple)
    assert isinstance(params.split.test_fraction, float)
    assert params.evaluate.source_slices["esdaung"] == ("esdaung-2021-crawl", "phishtank-2021")


def test_corpus_path_is_relative_to_the_project(tmp_path):
    params = load_params(
        write_params(tmp_path / "params.yaml", **{"data.corpus": "../shared/data"})
    )
    assert params.data.corpus_path(tmp_path) == (tmp_path.parent / "shared" / "data").resolve()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"split.test_fractoin": 0.2}, r"unknown key\(s\) split.test_fractoin"),
        ({"split.test_fraction": "0.2"}, "split.test_fraction: expected float, got '0.2'"),
        ({"base.seed": True}, "base.seed: expected int, got True"),
        ({"split.test_fraction": 0.95}, "sum to < 1"),
        ({"featurize.suspicious_tokens": "login"}, "expected a list"),
        ({"evaluate.source_slices": ["a"]}, "evaluate.source_slices: expected a mapping"),
        ({"evaluate.source_slices": {"x": "a"}}, "evaluate.source_slices.x: expected a list"),
        ({"evaluate.source_slices": {"test": ["a"]}}, "source_slices: test is taken"),
        ({"model.ngram_buckets": 2**33}, "model.ngram_buckets: must be in \\[1, 4.29497e\\+09\\]"),
        ({"model.conv_kernel_sizes": [3, 0]}, "model.conv_kernel_sizes: must be >= 1, got 0"),
        ({"monitor.score_quantiles": [0.5, 1.0]}, "monitor.score_quantiles: must be in \\(0, 1\\)"),
    ],
)
def test_bad_params_name_the_key(tmp_path, overrides, message):
    with pytest.raises(ParamsError, match=message):
        load_params(write_params(tmp_path / "params.yaml", **overrides))


def test_missing_key_and_bad_yaml(tmp_path):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    del params["data"]["demo_size"]
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(ParamsError, match=r"missing key\(s\) data.demo_size"):
        load_params(tmp_path / "p.yaml")
    (tmp_path / "bad.yaml").write_text("base: [unclosed")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(tmp_path / "bad.yaml")
    with pytest.raises(ParamsError, match="cannot read"):
        load_params(tmp_path / "absent.yaml")
    (tmp_path / "latin1.yaml").write_bytes("base:\n  seed: 42 # caf\xe9\n".encode("latin-1"))
    with pytest.raises(ParamsError, match="latin1.yaml is not UTF-8 text"):
        load_params(tmp_path / "latin1.yaml")


def test_the_readme_parameters_table_names_every_key():
    """Issue 29: the table said early_stopping_patience was 2 when params.yaml said 1. Every
    key is in the table by name (or under its section's `section.*` row), and every default
    the table shows is params.yaml's."""
    import re

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Parameters (`params.yaml`)") :].split("\n\n")[1]
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    named: dict[str, str] = {}
    for cells in rows:
        keys, section = [], None
        for key in re.findall(r"`([a-z_.*]+)`", cells[0]):
            section = key.split(".")[0] if "." in key else section
            keys.append(key if "." in key else f"{section}.{key}")
        defaults = [d.strip() for d in cells[1].split(",")]
        if len(defaults) != len(keys):  # "login, verify, …": one value for the row's keys
            defaults = [""] * len(keys)
        named |= dict(zip(keys, defaults, strict=True))
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    for section, values in params.items():
        for key, value in values.items():
            dotted = f"{section}.{key}"
            assert dotted in named or f"{section}.*" in named, f"{dotted} is not in the table"
            shown = named.get(dotted, "")
            if re.fullmatch(r"[0-9.]+|true|false", shown):
                assert shown == str(value).lower(), f"{dotted}: the table says {shown}, not {value}"


def test_the_promotion_rules_take_the_shadow_section_when_the_base_has_one():
    """A base revision from before `shadow:` existed still gives its promotion rules; the
    shadow run's limits are then not applied (angler/review/report.py says so in a caveat)."""
    from angler.params import ShadowParams, load_promotion_rules

    text = (REPO_ROOT / "params.yaml").read_text(encoding="utf-8")
    rules = load_promotion_rules(text, "main:params.yaml")
    assert rules.shadow == ShadowParams(1_000_000, 0.005, 20) and rules.seed == 42
    older = yaml.safe_load(text)
    del older["shadow"]
    assert load_promotion_rules(yaml.safe_dump(older), "old:params.yaml").shadow is None
    older["shadow"] = {"window_urls": 0}
    with pytest.raises(ParamsError, match="old:params.yaml: missing key"):
        load_promotion_rules(yaml.safe_dump(older), "old:params.yaml")
