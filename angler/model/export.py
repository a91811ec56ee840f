"""Export: the SavedModel TensorFlow Serving loads, written atomically.

Layout (TF Serving wants numeric version folders):

    models/angler/<version>/saved_model.pb, variables/, assets.extra/tf_serving_warmup_requests
    models/angler/model.json   version, SHA-256 of the version folder, params, data, metrics

The `serving_default` signature takes `urls` (tf.string, [None]) and returns
`phishing_probability` (float32, [None]) and `is_phishing` (bool, [None]): the probability
at or above the operating threshold the evaluate stage chose on validation, which model.json
records too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import keras
import mlflow
import numpy as np
import tensorflow as tf

from angler.model import tracking
from angler.params import Params

SIGNATURE_INPUT = "urls"
SIGNATURE_OUTPUT = "phishing_probability"
DECISION_OUTPUT = "is_phishing"
WARMUP_FILE = "assets.extra/tf_serving_warmup_requests"
SAVED_MODEL_SUBPATH = "tf2model"  # where mlflow.tensorflow.save_model puts the SavedModel
SCRATCH_PREFIX = ".export-"
UNREGISTERED = 0  # the version folder of a model `export` did not register
URLS_SPEC = tf.TensorSpec([None], tf.string, name=SIGNATURE_INPUT)


class ServingModule(tf.Module):
    """The Keras model behind string-in, probability-out functions, with its threshold."""

    def __init__(self, model: keras.Model, threshold: float):
        super().__init__(name="angler")
        self.model = model
        self.threshold = tf.constant(threshold, tf.float32)

    @tf.function(input_signature=[URLS_SPEC])
    def __call__(self, urls: tf.Tensor) -> tf.Tensor:
        return tf.reshape(tf.cast(self.model(urls, training=False), tf.float32), [-1])

    @tf.function(input_signature=[URLS_SPEC])
    def serve(self, urls: tf.Tensor) -> dict[str, tf.Tensor]:
        probability = self(urls)
        return {SIGNATURE_OUTPUT: probability, DECISION_OUTPUT: probability >= self.threshold}


def load_serving_module(keras_model: Path, threshold: float) -> ServingModule:
    # compile=False: no optimizer state in what TF Serving loads (a third of the size)
    return ServingModule(keras.saving.load_model(keras_model, compile=False), threshold)


def save_serving_model(module: ServingModule, path: Path, warmup_urls: list[str]) -> Path:
    """The MLflow model at `path`, saved once: its SavedModel folder (returned) is what TF
    Serving loads, with the serving signature, a stable fingerprint and a warmup file, and
    the whole folder is what the registry gets."""
    examples = np.array(warmup_urls[:2], dtype=object)
    mlflow.tensorflow.save_model(
        module,
        path=str(path),
        signature=mlflow.models.infer_signature(examples, module(examples).numpy()),
        saved_model_kwargs={"signatures": {"serving_default": module.serve}},
        pip_requirements=[f"tensorflow=={tf.__version__}"],
    )
    saved = path / SAVED_MODEL_SUBPATH
    derive_fingerprint_uuid(saved / "fingerprint.pb")
    write_warmup_requests(saved / WARMUP_FILE, warmup_urls)
    return saved


def derive_fingerprint_uuid(path: Path) -> None:
    """TensorFlow gives each save a random `uuid` in fingerprint.pb, its only random byte:
    derived from the fingerprint's content hashes instead, the same model saves to the same
    bytes (and digest), and different models still get different ids."""
    from tensorflow.core.protobuf import fingerprint_pb2

    fingerprint = fingerprint_pb2.FingerprintDef.FromString(path.read_bytes())
    fingerprint.ClearField("uuid")
    content = hashlib.sha256(fingerprint.SerializeToString(deterministic=True)).digest()
    fingerprint.uuid = str(int.from_bytes(content[:16], "big"))
    path.write_bytes(fingerprint.SerializeToString(deterministic=True))


def write_warmup_requests(path: Path, urls: list[str], model_name: str = "angler") -> None:
    """TF Serving replays these PredictRequests at load time, before taking traffic."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for url in urls:
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=model_name, signature_name="serving_default"),
                inputs={SIGNATURE_INPUT: tf.make_tensor_proto([url], dtype=tf.string)},
            )
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())


def register_serving_model(mlflow_model: Path, run_id: str, register: bool = True) -> int:
    """Log the saved MLflow model to the run and, with `register`, register it; returns the
    registry version, or UNREGISTERED."""
    mlflow.log_artifacts(str(mlflow_model), "model")
    if not register:
        return UNREGISTERED
    version = mlflow.register_model(f"runs:/{run_id}/model", tracking.REGISTERED_MODEL)
    return int(version.version)


def describe_version(version: int, digest: str, params: Params, metrics: dict):
    """model.json: what a version is, the data it came from and how it scored. The MLflow
    run and the git commit are the registry version's (`model_uri`), not written here: the
    same data and params give the same file."""
    return {
        "name": tracking.REGISTERED_MODEL,
        "version": version,
        "digest": digest,
        "model_uri": None
        if version == UNREGISTERED
        else f"models:/{tracking.REGISTERED_MODEL}/{version}",
        "operating_threshold": metrics["operating_point"]["threshold"],
        "data": tracking.data_tags(),
        "params": dataclasses.asdict(params),
        "metrics": metrics,
    }


def load_version(store: Path) -> tuple[int, Path]:
    """The version number and folder that model.json in a model store describes."""
    description = json.loads((store / "model.json").read_text(encoding="utf-8"))
    return description["version"], store / str(description["version"])


def score_urls(saved_model: Path, urls: list[str], batch_size: int = 4096) -> np.ndarray:
    """Scores from a SavedModel's serving signature, exactly as TF Serving computes them."""
    serve = tf.saved_model.load(str(saved_model)).signatures["serving_default"]
    batches = [
        serve(**{SIGNATURE_INPUT: tf.constant(urls[start : start + batch_size])})
        for start in range(0, len(urls), batch_size)
    ]
    return np.concatenate([batch[SIGNATURE_OUTPUT].numpy() for batch in batches])
