"""The exported SavedModel: the signature TF Serving calls, parity with the Keras model,
hostile inputs, the warmup file, the digest and the atomic publish."""

import json
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from angler.deploy.model_store import directory_digest, publish_atomically

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
