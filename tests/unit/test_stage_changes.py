"""The stage summary of the PR comment, from two lock files and `dvc status`."""

from angler.review.stage_changes import stage_changes


def entry(seed=42, data="a1", code="c1", out="o1"):
    return {
        "cmd": "angler train",
        "deps": [
            {"path": "data/shards", "md5": data},
            {"path": "angler/model/network.py", "md5": code},
        ],
        "params": {"params.yaml": {"base.seed": seed, "train": {"epochs": 4}}},
        "outs": [{"path": "models/keras", "md5": out}],
    }


def test_same_lock_entry_is_cached_and_differences_are_named():
    base = {"stages": {"a": entry(), "b": entry(), "c": entry()}}
    new = {"stages": {"a": entry(), "b": entry(seed=7, data="a2", out="o2"), "c": entry(out="o3")}}
    changes = {c.stage: c for c in stage_changes(["a", "b", "c"], base, new, {})}
    assert changes["a"].state == "cached" and changes["a"].reasons == ()
    assert changes["b"].state == "reran"
    assert changes["b"].reasons == ("params changed: base.seed", "inputs changed: data/shards")
    assert changes["c"].reasons == ("same inputs, outputs not in the cache",)


def test_nested_params_and_new_stages():
    changed = entry()
    changed["params"]["params.yaml"]["train"]["epochs"] = 3
    changes = stage_changes(
        ["a", "b"], {"stages": {"a": entry()}}, {"stages": {"a": changed, "b": entry()}}, {}
    )
    assert [c.reasons for c in changes] == [("params changed: train.epochs",), ("new stage",)]


def test_stages_dvc_status_still_lists_did_not_complete():
    status = {"train": [{"changed deps": {"params.yaml": {"train": "modified"}}}, "always changed"]}
    (change,) = stage_changes(["train"], {}, {}, status)
    assert change.state == "not completed"
    assert change.reasons == ("changed deps: params.yaml (train modified)", "always changed")
