"""The phishing-URL model: raw URL strings in, phishing probability out.

All per-URL preprocessing is inside the graph, so the exported SavedModel takes the same
raw strings TensorFlow Serving receives and training and serving cannot drift apart:

- `canonical_url_text` rebuilds `url_key` (angler.data.urls) with tf.strings: no scheme, lower-case
  host, no leading `www.`, no default port, no trailing slash;
- a hashed bag of character n-grams and word tokens (fastText-style), one embedding table;
- words tagged by where they sit (`position_tokens`: subdomain, registered name, TLD, path);
- a byte-level CNN in the spirit of URLNet: byte embedding, parallel convolutions, max pooling;
- averaged with a logistic regression on sublinear TF-IDF character n-grams (`TfidfLogit`),
  fitted after the network by angler.model.training.fit_tfidf_logit.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from angler.data.schema import WWW_LABEL
from angler.params import ModelParams

NGRAM_WIDTHS = (3, 4, 5)


def canonical_url_text(urls: tf.Tensor) -> tf.Tensor:
    """url_key of already-normalised or raw URLs, in-graph (no IDNA, no HTML entities)."""
    text = tf.strings.regex_replace(tf.strings.strip(urls), " ", "%20")
    text = tf.strings.regex_replace(text, r"^[A-Za-z][A-Za-z0-9+.\-]*://", "")
    text = tf.strings.regex_replace(text, r"\\", "/")
    host = tf.strings.regex_replace(text, r"[/?#].*$", "")
    rest = tf.strings.regex_replace(text, r"^[^/?#]*", "")
    host = tf.strings.lower(host)
    host = tf.strings.regex_replace(host, rf"^([^@]*@)?{WWW_LABEL}\.", r"\1")
    host = tf.strings.regex_replace(host, r"\.?(:80|:443)?$", "")
    rest = tf.strings.regex_replace(rest, r"^([^?#]*)\?(#|$)", r"\1\2")  # empty query
    rest = tf.strings.regex_replace(rest, r"^([^#]*)#$", r"\1")  # empty fragment
    rest = tf.strings.regex_replace(rest, r"^([^?#]*?)/+([?#].*)?$", r"\1\2")
    return host + rest


def char_ngrams(text: tf.Tensor) -> tf.RaggedTensor:
    chars = tf.strings.unicode_split(text, "UTF-8", errors="replace")
    return tf.strings.ngrams(chars, list(NGRAM_WIDTHS), separator="")


def words(text: tf.Tensor) -> tf.RaggedTensor:
    """The runs of ASCII letters and digits of each string."""
    return tf.strings.split(tf.strings.regex_replace(text, "[^0-9A-Za-z]+", " "))


def position_tokens(text: tf.Tensor) -> tf.RaggedTensor:
    """The words of each url_key tagged by where they sit: `s:` in the subdomain, `d:` in
    the label before the TLD, `t:` the TLD, `p:` in the path and query; then `n:` the number
    of host labels (6 for six or more) and `ip:1` for an IP-address host. A brand word is one
    feature as the site's own name and another in the subdomain or path of an unrelated
    site, which character n-grams of the whole URL cannot tell apart. The label before the
    TLD stands in for the registered domain: there is no public-suffix list in the graph."""
    host = tf.strings.regex_replace(text, r"[/?#].*$", "")
    path = tf.strings.regex_replace(text, r"^[^/?#]*", "")
    host = tf.strings.regex_replace(host, r"^[^@]*@|:[0-9]*$", "")
    labels = tf.strings.split(host, ".")
    count, last = labels.row_lengths(), labels.row_splits[1:] - 1
    # Gathers and a regex rather than ragged masks and joins: the same tokens, and a fifth of
    # the time to build the graph, which every process that loads the model pays.
    name = tf.where(count > 1, tf.gather(labels.flat_values, tf.maximum(last - 1, 0)), "")
    subdomain = tf.strings.regex_replace(host, r"(?s)^(.*)\.[^.]*\.[^.]*$|^[^.]*(\.[^.]*)?$", r"\1")

    def one(token: tf.Tensor) -> tf.RaggedTensor:
        return tf.RaggedTensor.from_tensor(tf.expand_dims(token, 1))

    is_ip = tf.strings.regex_full_match(host, r"[0-9.]+|\[[0-9a-f:.]*\]")
    return tf.concat(
        [
            "s:" + words(subdomain),
            "d:" + words(name),
            one("t:" + tf.gather(labels.flat_values, last)),
            "p:" + words(tf.strings.lower(path)),
            one("n:" + tf.strings.as_string(tf.minimum(count, 6))),
            one(tf.where(is_ip, "ip:1", "ip:0")),
        ],
        axis=1,
    )


def char_ngram_ids(text: tf.Tensor, buckets: int, with_positions: bool) -> tf.RaggedTensor:
    """Hashed character 3-5-grams of each string, and its position tokens if asked,
    [batch, (pieces)]."""
    pieces = char_ngrams(text)
    if with_positions:
        pieces = tf.concat([pieces, position_tokens(text)], axis=1)
    return tf.strings.to_hash_bucket_fast(pieces, buckets)


@keras.saving.register_keras_serializable(package="angler")
class TfidfLogit(keras.layers.Layer):
    """Strings -> logit [batch, 1] of a linear model on L2-normalised sublinear TF-IDF
    character n-grams: scikit-learn's TfidfTransformer and LogisticRegression, in-graph.
    Its weights are not trained by Keras; fit_tfidf_logit sets them."""

    def __init__(self, buckets: int, position_tokens: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.buckets = buckets
        self.position_tokens = position_tokens

    def build(self, input_shape):
        shape = (self.buckets,)
        self.idf = self.add_weight(name="idf", shape=shape, initializer="ones", trainable=False)
        self.coef = self.add_weight(name="coef", shape=shape, initializer="zeros", trainable=False)
        self.bias = self.add_weight(name="bias", shape=(), initializer="zeros", trainable=False)

    def call(self, urls):
        text = canonical_url_text(tf.reshape(urls, [-1]))
        ids = char_ngram_ids(text, self.buckets, self.position_tokens)
        keys = ids.value_rowids() * self.buckets + ids.flat_values  # one key per (URL, n-gram)
        unique, _, counts = tf.unique_with_counts(keys)
        rows, columns = unique // self.buckets, unique % self.buckets
        weight = (1.0 + tf.math.log(tf.cast(counts, "float32"))) * tf.gather(self.idf, columns)
        norm = tf.sqrt(tf.math.unsorted_segment_sum(tf.square(weight), rows, ids.nrows()))
        dot = tf.math.unsorted_segment_sum(
            weight * tf.gather(self.coef, columns), rows, ids.nrows()
        )
        return (dot / tf.maximum(norm, 1e-12) + self.bias)[:, None]

    def compute_output_spec(self, urls):
        return keras.KerasTensor((urls.shape[0], 1), dtype="float32")

    def get_config(self):
        return super().get_config() | {
            "buckets": self.buckets,
            "position_tokens": self.position_tokens,
        }


@keras.saving.register_keras_serializable(package="angler")
class UrlEncoder(keras.layers.Layer):
    """Strings -> (byte ids [batch, max_length], bag-of-n-grams embedding [batch, bag_dim])."""

    def __init__(
        self,
        max_length: int,
        ngram_buckets: int,
        bag_dim: int,
        position_tokens: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.ngram_buckets = ngram_buckets
        self.bag_dim = bag_dim
        self.position_tokens = position_tokens

    def build(self, input_shape):
        self.bag = self.add_weight(
            name="bag", shape=(self.ngram_buckets, self.bag_dim), initializer="uniform"
        )

    def call(self, urls):
        text = canonical_url_text(tf.reshape(urls, [-1]))
        codes = tf.strings.unicode_decode(text, "UTF-8", errors="replace")
        byte_ids = tf.minimum(codes, 255) + 1  # 0 is padding
        byte_ids = byte_ids.to_tensor(default_value=0, shape=[None, self.max_length])
        pieces = [char_ngrams(text), "w:" + words(text)]
        if self.position_tokens:
            pieces.append(position_tokens(text))
        ids = tf.strings.to_hash_bucket_fast(tf.concat(pieces, axis=1), self.ngram_buckets)
        rows = tf.cast(tf.gather(self.bag, ids.flat_values), self.compute_dtype)
        total = tf.reduce_sum(tf.RaggedTensor.from_row_splits(rows, ids.row_splits), axis=1)
        return byte_ids, total / tf.sqrt(tf.cast(tf.maximum(ids.row_lengths(), 1), total.dtype))[
            :, None
        ]

    def compute_output_spec(self, urls):
        batch = urls.shape[0]
        return (
            keras.KerasTensor((batch, self.max_length), dtype="int32"),
            keras.KerasTensor((batch, self.bag_dim), dtype=self.compute_dtype),
        )

    def get_config(self):
        return super().get_config() | {
            "max_length": self.max_length,
            "ngram_buckets": self.ngram_buckets,
            "bag_dim": self.bag_dim,
            "position_tokens": self.position_tokens,
        }


def build_model(params: ModelParams) -> keras.Model:
    """The Keras model: a string tensor of shape [batch] in, probability [batch, 1] out."""
    urls = keras.Input(shape=(), dtype="string", name="urls")
    byte_ids, bag = UrlEncoder(
        params.max_length,
        params.ngram_buckets,
        params.bag_dim,
        params.position_tokens,
        name="url_encoder",
    )(urls)
    branches = [bag]
    if params.conv_filters:
        embedded = keras.layers.Embedding(256 + 1, params.byte_embedding_dim, name="bytes")(
            byte_ids
        )
        for size in params.conv_kernel_sizes:
            conv = keras.layers.Conv1D(
                params.conv_filters, size, activation="relu", name=f"conv{size}"
            )(embedded)
            branches.append(keras.layers.GlobalMaxPooling1D(name=f"pool{size}")(conv))
    hidden = keras.layers.Concatenate(name="concat")(branches) if len(branches) > 1 else bag
    hidden = keras.layers.Dense(params.hidden_units, activation="relu", name="hidden")(hidden)
    hidden = keras.layers.Dropout(params.dropout, name="dropout")(hidden)
    probability = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="phishing")(
        hidden
    )
    return keras.Model(urls, probability, name="angler")


def with_tfidf_logit(network: keras.Model, tfidf: TfidfLogit) -> keras.Model:
    """The served model: the mean of the network's and the linear model's probabilities."""
    urls = network.input
    linear = keras.layers.Activation("sigmoid", dtype="float32", name="tfidf_probability")(
        tfidf(urls)
    )
    probability = keras.layers.Average(name="ensemble")([network.output, linear])
    return keras.Model(urls, probability, name="angler")
