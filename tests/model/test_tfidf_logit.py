"""The in-graph TF-IDF logistic regression computes what scikit-learn computes, and the
averaged model saves and loads like the network alone."""

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression

from angler.model.network import TfidfLogit, build_model, with_tfidf_logit
from angler.model.training import fit_tfidf_logit, ngram_counts
from angler.params import ModelParams


def model_params(with_positions: bool, c: float = 10.0, max_url_bytes: int = 1024) -> ModelParams:
    return ModelParams(
        max_url_bytes=max_url_bytes,
        max_length=32,
        ngram_buckets=BUCKETS,
        bag_dim=4,
        position_tokens=with_positions,
        piece_dropout=0.0,
        byte_embedding_dim=4,
        conv_filters=0,
        conv_kernel_sizes=(3,),
        hidden_units=4,
        dropout=0.0,
        tfidf_c=c,
    )


BUCKETS = 2**14
RNG = np.random.default_rng(3)
WORDS = ["login", "verify", "account", "news", "wiki", "shop", "secure", "docs", "item"]


def urls(n: int) -> pd.DataFrame:
    phishing = RNG.random(n) < 0.5
    rows = [
        f"http://{'-'.join(RNG.choice(WORDS, 3))}.example{i % 17}.com/{RNG.choice(WORDS)}"
        + ("/signin.php?id=1" if is_phishing else "")
        for i, is_phishing in enumerate(phishing)
    ]
    return pd.DataFrame({"url": rows, "label": phishing.astype(int)})


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return urls(600)


@pytest.mark.parametrize("with_positions", [False, True])
def test_layer_logits_equal_scikit_learns_decision_function(train, with_positions):
    params = model_params(with_positions)
    layer = fit_tfidf_logit(train, params)
    long = "http://example.com/" + "login/" * 400  # past max_url_bytes: the same cut in both
    scored = pd.Series([*urls(50)["url"], long, "", "HTTP://WWW.Example.COM/", "é" * 300])
    counts = ngram_counts(train["url"], params)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
    linear = LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear")
    linear.fit(tfidf.transform(counts), train["label"])
    expected = linear.decision_function(tfidf.transform(ngram_counts(scored, params)))
    got = layer(tf.constant(scored.to_numpy(dtype=object))).numpy().ravel()
    np.testing.assert_allclose(got, expected, atol=1e-4)
    if not with_positions:  # an empty URL has position tokens (an empty TLD, one label)
        assert got[-3] == pytest.approx(linear.intercept_[0])  # no n-grams: the bias alone


def test_the_averaged_model_round_trips_through_keras_saving(train, tmp_path):
    params = model_params(True, c=1.0)
    network = build_model(params)
    model = with_tfidf_logit(network, fit_tfidf_logit(train, params))
    sample = tf.constant(urls(20)["url"].to_numpy(dtype=object))
    linear = tf.sigmoid(model.get_layer("tfidf_logit")(sample))
    np.testing.assert_allclose(
        model(sample).numpy(), (network(sample).numpy() + linear.numpy()) / 2, atol=1e-6
    )
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", compile=False)
    assert isinstance(loaded.get_layer("tfidf_logit"), TfidfLogit)
    assert loaded.get_layer("tfidf_logit").position_tokens
    np.testing.assert_allclose(loaded(sample).numpy(), model(sample).numpy(), atol=1e-6)
