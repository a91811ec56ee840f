import pytest
import yaml

from angler.params import ParamsError, load_params

from helpers.paths import REPO_ROOT, write_params


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
        ({"model.ngram_buckets": 0}, "model.ngram_buckets must be between 1 and 2"),
        ({"model.ngram_buckets": 2**33}, "model.ngram_buckets must be between 1 and 2"),
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
