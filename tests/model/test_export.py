"""The exported SavedModel: the signature TF Serving calls, parity with the Keras model,
hostile inputs, the warmup file, the digest and the atomic publish."""

import json
import shutil
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from angler.deploy.model_store import directory_digest, publish_atomically
from angler.model import network  # noqa: F401  (registers the model's layers with Keras)

pytestmark = pytest.mark.slow

SAMPLE = [
    "https://paypal.com.secure-login.evil-host.xyz/signin",
    "http://wikipedia.org/wiki/Phishing",
    "HTTP://WWW.Example.COM:80/a/",
    "http://181.214.58.104/login.php",
]


@pytest.fixture(scope="module")
def exported(demo_run):
    description = json.loads((demo_run / "models" / "angler" / "model.json").read_text())
    return demo_run / "models" / "angler" / str(description["version"]), description


def serve(path, urls):
    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    return signature(urls=tf.constant(urls, dtype=tf.string))["phishing_probability"].numpy()


def test_signature_names_dtypes_and_shapes(exported):
    path, _ = exported
    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    (inputs,) = signature.structured_input_signature[1].values()
    assert list(signature.structured_input_signature[1]) == ["urls"]
    assert (inputs.dtype, inputs.shape.as_list()) == (tf.string, [None])
    assert sorted(signature.structured_outputs) == ["is_phishing", "phishing_probability"]
    output = signature.structured_outputs["phishing_probability"]
    assert (output.dtype, output.shape.as_list()) == (tf.float32, [None])
    decision = signature.structured_outputs["is_phishing"]
    assert (decision.dtype, decision.shape.as_list()) == (tf.bool, [None])


def test_the_decision_is_the_probability_at_the_validation_threshold(demo_run, exported):
    path, description = exported
    metrics = json.loads((demo_run / "metrics" / "evaluate.json").read_text())
    threshold = description["operating_threshold"]
    assert threshold == metrics["operating_point"]["threshold"]
    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    result = signature(urls=tf.constant(SAMPLE, dtype=tf.string))
    probability = result["phishing_probability"].numpy()
    np.testing.assert_array_equal(result["is_phishing"].numpy(), probability >= threshold)


def test_saved_model_scores_like_the_keras_model(demo_run, exported):
    path, _ = exported
    model = keras.saving.load_model(demo_run / "models" / "keras" / "angler.keras")
    quarantined = (demo_run / "data" / "quarantine" / "ingest.csv").read_text().splitlines()
    urls = SAMPLE + quarantined[:20]
    expected = model.predict(np.array(urls, dtype=object), verbose=0).reshape(-1)
    np.testing.assert_allclose(serve(path, urls), expected, rtol=1e-5, atol=1e-6)


def test_hostile_inputs_are_scored_not_crashed_on(exported):
    path, _ = exported
    urls = ["", " ", "https://аpple.com/ログイン", "http://" + "a" * 100_000 + ".com/", "\x00\x07"]
    scores = serve(path, urls)
    assert scores.shape == (len(urls),)
    assert np.all((scores >= 0) & (scores <= 1))


def test_a_request_of_long_urls_costs_what_one_of_cut_urls_costs(demo_run, exported):
    """The attack of issue 28: four URLs of 1 MB took +3 GB when the n-gram branches read the
    whole URL. Every branch now reads `model.max_url_bytes`; measured as the peak RSS of a
    fresh process (bench/serving_memory.py), with a generous bound."""
    import subprocess
    import sys

    from helpers.paths import REPO_ROOT

    path, _ = exported
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "serving_memory.py"), "--model", str(path)]
        + ["--cases", "4x1048576,64x1048576"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    four, many = [json.loads(line) for line in result.stdout.splitlines()]
    assert four["batch_mib"] < 100, four
    assert many["batch_mib"] < 64 * 3 + 300, many  # the request's own 64 MB, copied, and a batch


def test_the_cut_bounds_what_every_branch_reads(exported):
    path, _ = exported
    head = "http://example.com/" + "a/b-c" * 300  # ~1,500 bytes: past the cut
    long = [head + "x" * 10, head + "y" * 50_000]
    scores = serve(path, long)
    assert scores[0] == pytest.approx(scores[1], abs=1e-6)  # what differs is past the cut


def test_warmup_file_holds_predict_requests(exported):
    path, _ = exported
    records = list(
        tf.data.TFRecordDataset(str(path / "assets.extra" / "tf_serving_warmup_requests"))
    )
    assert records
    log = prediction_log_pb2.PredictionLog.FromString(records[0].numpy())
    request = log.predict_log.request
    assert request.model_spec.signature_name == "serving_default"
    assert tf.make_ndarray(request.inputs["urls"]).dtype == object


def test_model_json_describes_the_version(exported):
    path, description = exported
    assert description["digest"] == directory_digest(path)
    assert description["model_uri"] == f"models:/angler/{description['version']}"
    assert description["metrics"]["test"]["roc_auc"] > 0.5
    assert description["params"]["train"]["epochs"] == 3


def test_digest_changes_with_any_byte(tmp_path, exported):
    path, _ = exported
    copy = shutil.copytree(path, tmp_path / "copy")
    assert directory_digest(copy) == directory_digest(path)
    (copy / "assets.extra" / "tf_serving_warmup_requests").write_bytes(b"x")
    assert directory_digest(copy) != directory_digest(path)


def test_publish_is_atomic(tmp_path, exported, monkeypatch):
    path, _ = exported
    store = tmp_path / "store"
    assert (publish_atomically(path, store, 7) / "saved_model.pb").is_file()
    with pytest.raises(FileExistsError, match="never overwritten"):
        publish_atomically(path, store, 7)

    def copy_then_die(src, dst, **kwargs):
        shutil.copy2(path / "saved_model.pb", dst)
        raise KeyboardInterrupt

    monkeypatch.setattr(shutil, "copytree", copy_then_die)
    with pytest.raises(KeyboardInterrupt):
        publish_atomically(path, store, 8)
    assert sorted(p.name for p in store.iterdir()) == ["7"]


def test_the_keras_archive_carries_no_save_time(demo_run, tmp_path):
    import zipfile

    from angler.model.training import save_model

    archive = demo_run / "models" / "keras" / "angler.keras"
    with zipfile.ZipFile(archive) as saved:
        assert {entry.date_time for entry in saved.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "date_saved" not in json.loads(saved.read("metadata.json"))
    model = keras.saving.load_model(archive)
    save_model(model, tmp_path / "first.keras")
    time.sleep(2.1)  # past the zip format's two-second and Keras's one-second clock
    save_model(model, tmp_path / "second.keras")
    assert (tmp_path / "first.keras").read_bytes() == (tmp_path / "second.keras").read_bytes()


def test_two_exports_of_one_model_are_the_same_bytes(demo_run, tmp_path):
    """Each in a process of its own, as two pipeline runs would be: TensorFlow's random
    fingerprint id is the one thing that differed."""
    import subprocess
    import sys

    from angler.deploy.model_store import manifest

    script = (
        "import sys; from pathlib import Path; import angler.model.network; "
        "from angler.model.export import load_serving_module, save_serving_model; "
        "module = load_serving_module(Path(sys.argv[1]), 0.5); "
        "save_serving_model(module, Path(sys.argv[2]), [sys.argv[3]])"
    )
    keras_model = str(demo_run / "models" / "keras" / "angler.keras")
    runs = [
        subprocess.Popen([sys.executable, "-c", script, keras_model, str(out), SAMPLE[0]])
        for out in (tmp_path / "first", tmp_path / "second")
    ]
    assert [run.wait() for run in runs] == [0, 0]
    first = manifest(tmp_path / "first" / "tf2model")  # the SavedModel TF Serving loads
    second = manifest(tmp_path / "second" / "tf2model")
    assert [name for name, _, _ in first] == [name for name, _, _ in second]
    assert "fingerprint.pb" in [name for name, _, _ in first]
    assert first == second, [a for a, b in zip(first, second, strict=True) if a != b]
