"""The phishing-URL model: raw URL strings in, phishing probability out.

All per-URL preprocessing is inside the graph, so the exported SavedModel takes the same
raw strings TensorFlow Serving receives and training and serving cannot drift apart:

- `canonical_url_text` rebuilds `url_key` (angler.data.urls) with tf.strings: no scheme, lower-case
  host, no leading `www.`, no default port, no trailing slash;
- a hashed bag of byte n-grams and word tokens (fastText-style), one embedding table;
- words tagged by where they sit (`position_tokens`: subdomain, registered name, TLD, path)
  and the host's shape (labels, length, digits, hyphens, an IP address);
- a byte-level CNN in the spirit of URLNet: byte embedding, parallel convolutions, max pooling;
- averaged with a logistic regression on sublinear TF-IDF byte n-grams (`TfidfLogit`),
  fitted after the network by angler.model.training.fit_tfidf_logit.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from angler.data.schema import WWW_LABEL
from angler.params import ModelParams

NGRAM_WIDTHS = (3, 4, 5)
_GOLDEN_RATIO_64 = tf.constant(0x9E3779B97F4A7C15, tf.uint64)


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


def model_text(urls: tf.Tensor, max_bytes: int) -> tf.Tensor:
    """What every branch reads of each URL: url_key of its first `max_bytes` bytes, cut again
    to `max_bytes` (spaces grow to %20). The cut bounds the cost of a request of long URLs;
    training reads the same text."""
    return tf.strings.substr(
        canonical_url_text(tf.strings.substr(urls, 0, max_bytes)), 0, max_bytes
    )


def url_bytes(text: tf.Tensor) -> tf.RaggedTensor:
    """The bytes of each string as integers 0-255 (Latin-1 maps each byte to one code)."""
    return tf.strings.unicode_decode(text, "ISO-8859-1")


def byte_ngram_ids(text: tf.Tensor, buckets: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Hashed byte 3-5-grams of each string as (ids, rows): flat, in no order of row.

    Computed on integers, not strings: the bytes of an n-gram and its width are one key
    of at most 43 bits, hashed by multiplying with 2^64 / golden ratio, whose high half
    picks the bucket. A fifth of the time of tf.strings.ngrams and to_hash_bucket_fast."""
    codes = url_bytes(text)
    flat = tf.cast(codes.flat_values, tf.uint64)
    rows = codes.value_rowids()
    left = tf.gather(codes.row_splits[1:], rows) - tf.range(tf.size(flat, out_type=tf.int64))
    padded = tf.concat([flat, tf.zeros([max(NGRAM_WIDTHS)], tf.uint64)], 0)
    key, ids, id_rows = tf.zeros_like(flat), [], []
    for width in range(1, max(NGRAM_WIDTHS) + 1):
        key = tf.bitwise.left_shift(key, tf.constant(8, tf.uint64))
        key = key | padded[width - 1 : width - 1 + tf.size(flat)]
        if width in NGRAM_WIDTHS:
            whole = left >= width  # the n-gram starting here ends inside its string
            mixed = (tf.boolean_mask(key, whole) + (width << 40)) * _GOLDEN_RATIO_64
            high = tf.bitwise.right_shift(mixed, tf.constant(32, tf.uint64))
            ids.append(tf.cast(high % buckets, tf.int64))
            id_rows.append(tf.boolean_mask(rows, whole))
    return tf.concat(ids, 0), tf.concat(id_rows, 0)


def hashed_strings(pieces: tf.RaggedTensor, buckets: int) -> tuple[tf.Tensor, tf.Tensor]:
    """(ids, rows) of string pieces [batch, (pieces)]."""
    return tf.strings.to_hash_bucket_fast(pieces.flat_values, buckets), pieces.value_rowids()


def words(text: tf.Tensor) -> tf.RaggedTensor:
    """The runs of ASCII letters and digits of each string."""
    return tf.strings.split(tf.strings.regex_replace(text, "[^0-9A-Za-z]+", " "))


def position_tokens(text: tf.Tensor) -> tf.RaggedTensor:
    """The words of each url_key tagged by where they sit: `s:` in the subdomain, `d:` in
    the label before the TLD, `t:` the TLD, `p:` in the path and query; then the host's
    shape: `n:` the number of host labels (6 for six or more), `ip:1` for an IP-address
    host, `hl:` its length in steps of 8 (up to 64), `hd:` its digits (up to 4), `hh:` its
    hyphens (up to 3). A brand word is one feature as the site's own name and another in the
    subdomain or path of an unrelated site, which character n-grams of the whole URL cannot
    tell apart; the shape tells a machine-made host from a person's site it has never seen.
    The label before the TLD stands in for the registered domain: there is no public-suffix
    list in the graph."""
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
            one("hl:" + capped(tf.strings.length(host) // 8, 8)),
            one("hd:" + capped(characters_in(host, "0-9"), 4)),
            one("hh:" + capped(characters_in(host, "-"), 3)),
        ],
        axis=1,
    )


def characters_in(text: tf.Tensor, character_class: str) -> tf.Tensor:
    """How many characters of each string are in the regex class, e.g. "0-9"."""
    return tf.strings.length(tf.strings.regex_replace(text, f"[^{character_class}]", ""))


def capped(count: tf.Tensor, top: int) -> tf.Tensor:
    return tf.strings.as_string(tf.minimum(count, top))


def hashed_pieces(
    text: tf.Tensor, buckets: int, with_positions: bool
) -> tuple[tf.Tensor, tf.Tensor]:
    """(ids, rows) of the byte 3-5-grams of each string, and of its position tokens if asked.
    The encoder and TfidfLogit both call this on the same text with the same buckets, so
    TensorFlow's graph optimiser computes it once in the served model."""
    ids, rows = byte_ngram_ids(text, buckets)
    if not with_positions:
        return ids, rows
    position_ids, position_rows = hashed_strings(position_tokens(text), buckets)
    return tf.concat([ids, position_ids], 0), tf.concat([rows, position_rows], 0)


@keras.saving.register_keras_serializable(package="angler")
class TfidfLogit(keras.layers.Layer):
    """Strings -> logit [batch, 1] of a linear model on L2-normalised sublinear TF-IDF
    byte n-grams: scikit-learn's TfidfTransformer and LogisticRegression, in-graph.
    Its weights are not trained by Keras; fit_tfidf_logit sets them."""

    def __init__(self, buckets: int, position_tokens: bool, max_url_bytes: int, **kwargs):
        super().__init__(**kwargs)
        self.buckets = buckets
        self.position_tokens = position_tokens
        self.max_url_bytes = max_url_bytes

    def build(self, input_shape):
        shape = (self.buckets,)
        self.idf = self.add_weight(name="idf", shape=shape, initializer="ones", trainable=False)
        self.coef = self.add_weight(name="coef", shape=shape, initializer="zeros", trainable=False)
        self.bias = self.add_weight(name="bias", shape=(), initializer="zeros", trainable=False)

    def call(self, urls):
        text = model_text(tf.reshape(urls, [-1]), self.max_url_bytes)
        ids, rows = hashed_pieces(text, self.buckets, self.position_tokens)
        unique, _, counts = tf.unique_with_counts(rows * self.buckets + ids)  # (URL, piece)
        rows, columns = unique // self.buckets, unique % self.buckets
        weight = (1.0 + tf.math.log(tf.cast(counts, "float32"))) * tf.gather(self.idf, columns)
        batch = tf.shape(text, out_type=tf.int64)[0]
        norm = tf.sqrt(tf.math.unsorted_segment_sum(tf.square(weight), rows, batch))
        dot = tf.math.unsorted_segment_sum(weight * tf.gather(self.coef, columns), rows, batch)
        return (dot / tf.maximum(norm, 1e-12) + self.bias)[:, None]

    def compute_output_spec(self, urls):
        return keras.KerasTensor((urls.shape[0], 1), dtype="float32")

    def get_config(self):
        return super().get_config() | {
            "buckets": self.buckets,
            "position_tokens": self.position_tokens,
            "max_url_bytes": self.max_url_bytes,
        }


@keras.saving.register_keras_serializable(package="angler")
class UrlEncoder(keras.layers.Layer):
    """Strings -> (byte ids [batch, max_length], bag-of-n-grams embedding [batch, bag_dim]).
    In training, each piece of the bag is dropped with probability `piece_dropout`, so the
    model cannot lean on the few n-grams that name one site."""

    def __init__(
        self,
        max_length: int,
        ngram_buckets: int,
        bag_dim: int,
        position_tokens: bool,
        max_url_bytes: int,
        piece_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.ngram_buckets = ngram_buckets
        self.bag_dim = bag_dim
        self.position_tokens = position_tokens
        self.max_url_bytes = max_url_bytes
        self.piece_dropout = piece_dropout
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.bag = self.add_weight(
            name="bag", shape=(self.ngram_buckets, self.bag_dim), initializer="uniform"
        )

    def call(self, urls, training=False):
        text = model_text(tf.reshape(urls, [-1]), self.max_url_bytes)
        byte_ids = url_bytes(text)[:, : self.max_length] + 1  # 0 is padding
        byte_ids = byte_ids.to_tensor(default_value=0, shape=[None, self.max_length])
        ids, rows = hashed_pieces(text, self.ngram_buckets, self.position_tokens)
        word_ids, word_rows = hashed_strings("w:" + words(text), self.ngram_buckets)
        ids, rows = tf.concat([ids, word_ids], 0), tf.concat([rows, word_rows], 0)
        if training and self.piece_dropout:
            draw = keras.random.uniform(tf.shape(ids), seed=self.seed_generator)
            keep = draw >= self.piece_dropout
            ids, rows = tf.boolean_mask(ids, keep), tf.boolean_mask(rows, keep)
        batch = tf.shape(text, out_type=tf.int64)[0]
        vectors = tf.cast(tf.gather(self.bag, ids), self.compute_dtype)
        total = tf.math.unsorted_segment_sum(vectors, rows, batch)
        count = tf.math.unsorted_segment_sum(tf.ones_like(ids, total.dtype), rows, batch)
        return byte_ids, total / tf.sqrt(tf.maximum(count, 1))[:, None]

    def compute_output_spec(self, urls, training=False):
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
            "max_url_bytes": self.max_url_bytes,
            "piece_dropout": self.piece_dropout,
            "seed": self.seed,
        }


def build_model(params: ModelParams, seed: int | None = None) -> keras.Model:
    """The Keras model: a string tensor of shape [batch] in, probability [batch, 1] out."""
    urls = keras.Input(shape=(), dtype="string", name="urls")
    byte_ids, bag = UrlEncoder(
        params.max_length,
        params.ngram_buckets,
        params.bag_dim,
        params.position_tokens,
        params.max_url_bytes,
        params.piece_dropout,
        seed,
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
