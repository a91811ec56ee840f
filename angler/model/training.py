"""Train: read the featurize shards with tf.data and fit the model.

Every GPU present is used (MirroredStrategy, mixed precision); without one the same code
runs on the CPU. Seeded: two runs on the same shards give the same model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import tensorflow as tf
from threadpoolctl import threadpool_limits

from angler.model.network import (
    TfidfLogit,
    build_model,
    hashed_pieces,
    model_text,
    with_tfidf_logit,
)
from angler.params import ModelParams, TrainParams

log = logging.getLogger(__name__)


def read_shards(shards: Path, split: str, limit: int = 0) -> pd.DataFrame:
    """`url`, `label`, `source` of one split, in shard order; the first `limit` rows if > 0."""
    files = sorted((shards / split).glob("*.parquet"))
    if not files:
        return pd.DataFrame({"url": [], "label": [], "source": []})
    frame = pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
    return frame.head(limit) if limit else frame


def to_dataset(
    frame: pd.DataFrame, batch_size: int, shuffle_buffer: int = 0, seed: int = 0
) -> tf.data.Dataset:
    dataset = tf.data.Dataset.from_tensor_slices(
        (frame["url"].to_numpy(dtype=object), frame["label"].to_numpy(dtype="float32"))
    )
    if shuffle_buffer:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def class_weights(labels: pd.Series) -> dict[int, float]:
    """Weights that make both classes count equally in the loss."""
    counts = labels.value_counts()
    return {int(k): float(len(labels) / (2 * counts[k])) for k in counts.index}


def distribution_strategy() -> tf.distribute.Strategy:
    """MirroredStrategy with mixed precision over every GPU, else the default (CPU)."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return tf.distribute.get_strategy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    log.info("training on %d GPU(s) with mixed precision", len(gpus))
    return tf.distribute.MirroredStrategy()


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch (training and validation), for the report and benchmarks."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.perf_counter() - self._start, 2))


class ProgressLog(keras.callbacks.Callback):
    """A line every `every_seconds` within an epoch: step, URLs/s and time left in it; one
    with the epoch's metrics at its end. The rate counts from the end of the first step,
    which also fills the shuffle buffer."""

    def __init__(self, steps: int, batch_size: int, every_seconds: float = 30.0):
        super().__init__()
        self.steps, self.batch_size, self.every = steps, batch_size, every_seconds

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1
        self._last = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if batch == 0:
            self._start = now
        if batch == 0 or now - self._last < self.every or batch + 1 >= self.steps:
            return
        self._last = now
        rate = batch / (now - self._start)
        log.info(
            "epoch %d: step %d/%d, %s URLs/s, %.0f s left in the epoch, loss %.4f",
            self._epoch,
            batch + 1,
            self.steps,
            f"{rate * self.batch_size:,.0f}",
            (self.steps - batch - 1) / rate,
            (logs or {}).get("loss", float("nan")),
        )

    def on_epoch_end(self, epoch, logs=None):
        shown = ", ".join(f"{name} {value:.4f}" for name, value in sorted((logs or {}).items()))
        log.info("epoch %d done: %s", epoch + 1, shown)


def train_model(
    model_params: ModelParams,
    train_params: TrainParams,
    seed: int,
    train: pd.DataFrame,
    validation: pd.DataFrame,
    on_epoch_end: Callable[[int, dict], None] | None = None,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Fit a new model; stops early on validation AUC and keeps the best epoch's weights."""
    keras.utils.set_random_seed(seed)
    with distribution_strategy().scope():
        model = build_model(model_params, seed)
        model.compile(
            optimizer=keras.optimizers.Adam(train_params.learning_rate),
            loss="binary_crossentropy",
            metrics=[keras.metrics.AUC(name="auc")],
        )
    timer = EpochTimer()
    steps = -(-len(train) // train_params.batch_size)
    callbacks: list[keras.callbacks.Callback] = [
        timer,
        ProgressLog(steps, train_params.batch_size),
        keras.callbacks.EarlyStopping(
            monitor="val_auc",
            mode="max",
            patience=train_params.early_stopping_patience,
            restore_best_weights=True,
        ),
    ]
    if on_epoch_end:
        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end))
    history = model.fit(
        to_dataset(train, train_params.batch_size, train_params.shuffle_buffer, seed),
        validation_data=to_dataset(validation, train_params.batch_size),
        epochs=train_params.epochs,
        class_weight=class_weights(train["label"]),
        callbacks=callbacks,
        shuffle=False,  # the dataset shuffles itself, with the seed
        verbose=0,  # ProgressLog says it in the stage's own lines
    )
    metrics = {k: [float(v) for v in values] for k, values in history.history.items()}
    return model, metrics | {"epoch_seconds": timer.seconds}


def train_served_model(
    model_params: ModelParams,
    train_params: TrainParams,
    seed: int,
    train: pd.DataFrame,
    validation: pd.DataFrame,
    on_epoch_end: Callable[[int, dict], None] | None = None,
) -> tuple[keras.Model, dict, dict]:
    """The model export serves: the network, averaged with the TF-IDF logistic regression
    when `model.tfidf_c` is set. Returns it with the train report's values, which are the
    same in every run of the same data and params, and the run's wall times apart (MLflow
    keeps those)."""
    from sklearn.metrics import roc_auc_score

    network, history = train_model(
        model_params, train_params, seed, train, validation, on_epoch_end
    )
    epoch_seconds = history.pop("epoch_seconds")
    best = max(range(len(history["val_auc"])), key=history["val_auc"].__getitem__)
    result = {
        "train_urls": len(train),
        "validation_urls": len(validation),
        "epochs_run": len(history["loss"]),
        "best_epoch": best + 1,
        "best_val_auc": history["val_auc"][best],
        "history": history,
    }
    timings = {
        "epoch_seconds": epoch_seconds,
        "train_seconds": round(sum(epoch_seconds), 1),
        "train_urls_per_second": round(len(train) * len(epoch_seconds) / sum(epoch_seconds)),
    }
    if not model_params.tfidf_c:
        return network, result, timings
    start = time.perf_counter()
    tfidf = fit_tfidf_logit(train, model_params)
    timings["tfidf_seconds"] = round(time.perf_counter() - start, 1)
    labels = validation["label"].to_numpy()
    served = with_tfidf_logit(network, tfidf)
    result["network_val_auc"] = roc_auc_score(labels, predict(network, validation["url"]))
    result["served_val_auc"] = roc_auc_score(labels, predict(served, validation["url"]))
    log.info(
        "validation ROC AUC: network %.4f, averaged with TF-IDF %.4f",
        result["network_val_auc"],
        result["served_val_auc"],
    )
    return served, result, timings


def ngram_counts(urls: pd.Series, params: ModelParams, batch_size: int = 8192):
    """Sparse [URLs, buckets] counts of the hashed pieces TfidfLogit sees."""
    from scipy import sparse

    columns, rows = [], []
    for start in range(0, len(urls), batch_size):
        batch = tf.constant(urls.iloc[start : start + batch_size].to_numpy(dtype=object))
        text = model_text(batch, params.max_url_bytes)
        ids, id_rows = hashed_pieces(text, params.ngram_buckets, params.position_tokens)
        columns.append(ids.numpy())
        rows.append(id_rows.numpy() + start)
    columns = np.concatenate(columns) if columns else np.zeros(0, np.int64)
    rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    counts = sparse.coo_matrix(
        (np.ones(len(columns), np.float32), (rows, columns)),
        shape=(len(urls), params.ngram_buckets),
    )
    return counts.tocsr()  # sums the duplicates


def fit_tfidf_logit(train: pd.DataFrame, params: ModelParams) -> TfidfLogit:
    """Fit the TF-IDF logistic regression (balanced classes) and return it as a layer."""
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    counts = ngram_counts(train["url"], params)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
    linear = LogisticRegression(
        C=params.tfidf_c, class_weight="balanced", solver="liblinear", max_iter=2000
    )
    # One BLAS thread: with as many as the machine has cores, the coefficients' last bits
    # depend on the core count, and the model's bytes with them.
    with threadpool_limits(limits=1, user_api="blas"):
        linear.fit(tfidf.transform(counts), train["label"].to_numpy())
    layer = TfidfLogit(
        params.ngram_buckets,
        params.position_tokens,
        params.max_url_bytes,
        dtype="float32",
        name="tfidf_logit",
    )
    layer.build(None)
    layer.set_weights(
        [
            tfidf.idf_.astype("float32"),
            linear.coef_[0].astype("float32"),
            np.float32(linear.intercept_[0]),
        ]
    )
    log.info("TF-IDF logistic regression fitted in %.1f s", time.perf_counter() - start)
    return layer


def predict(model: keras.Model, urls: pd.Series, batch_size: int = 1024) -> np.ndarray:
    """Phishing probability for each URL string."""
    if urls.empty:  # Keras cannot predict on an empty dataset (an empty slice)
        return np.zeros(0, np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(urls.to_numpy(dtype=object)).batch(batch_size)
    return model.predict(dataset, verbose=0).reshape(-1)


def save_model(model: keras.Model, path: Path) -> None:
    """The .keras archive, the same bytes for the same weights. Keras writes three things that
    change from run to run and that loading does not need as they are: the save time (in
    metadata.json and the zip entries) and, for objects layers share, `shared_object_id`, the
    object's memory address; the ids are renumbered in order, which keeps the sharing."""
    import json
    import zipfile

    scratch = path.with_name(f".unfixed-{path.name}")  # Keras wants the .keras suffix
    model.save(scratch)
    with zipfile.ZipFile(scratch) as saved, zipfile.ZipFile(path, "w") as fixed:
        for entry in saved.infolist():
            data = saved.read(entry)
            if entry.filename == "metadata.json":
                metadata = json.loads(data)
                metadata.pop("date_saved", None)
                data = json.dumps(metadata, sort_keys=True).encode()
            elif entry.filename == "config.json":
                data = json.dumps(_renumber_shared_objects(json.loads(data), {})).encode()
            fixed.writestr(zipfile.ZipInfo(entry.filename), data, compress_type=entry.compress_type)
    scratch.unlink()


def _renumber_shared_objects(config, numbers: dict[int, int]):
    if isinstance(config, list):
        return [_renumber_shared_objects(item, numbers) for item in config]
    if not isinstance(config, dict):
        return config
    renumbered = {key: _renumber_shared_objects(value, numbers) for key, value in config.items()}
    if "shared_object_id" in config:
        renumbered["shared_object_id"] = numbers.setdefault(
            config["shared_object_id"], len(numbers) + 1
        )
    return renumbered
