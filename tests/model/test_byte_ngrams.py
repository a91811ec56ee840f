"""The byte n-grams, hashed on integers in-graph: every 3-, 4- and 5-byte window of each
string and no other, the same window the same id wherever it sits, few collisions."""

import itertools
from collections import Counter

import numpy as np
import tensorflow as tf

from angler.model.network import byte_ngram_ids

BUCKETS = 2**20


def windows(text: bytes) -> list[bytes]:
    return [text[i : i + w] for w in (3, 4, 5) for i in range(len(text) - w + 1)]


def ngram_ids(texts: list[bytes], buckets: int = BUCKETS) -> list[list[int]]:
    ids, rows = byte_ngram_ids(tf.constant(texts), buckets)
    per_row = [[] for _ in texts]
    for piece, row in zip(ids.numpy().tolist(), rows.numpy().tolist(), strict=True):
        per_row[row].append(piece)
    return per_row


def test_one_id_per_window_of_each_string():
    texts = [b"abcdef", b"xy", "h\u00e9llo".encode(), b"", b"abc", b"ab\x00"]
    per_row = ngram_ids(texts)
    assert [len(ids) for ids in per_row] == [len(windows(t)) for t in texts]
    assert [len(ids) for ids in per_row] == [9, 0, 9, 0, 1, 1]


def test_a_window_hashes_the_same_wherever_it_sits():
    texts = [b"abcdef", b"zzabcdefzz", b"abc"]
    per_row = ngram_ids(texts)
    assert set(per_row[0]) < set(per_row[1])
    assert set(per_row[2]) < set(per_row[0])


def test_ngrams_ending_in_zero_bytes_are_not_the_shorter_ones():
    """Windows are read from a zero-padded buffer: "ab\\0" must not equal the end of "ab"."""
    short, padded, longer = ngram_ids([b"zab", b"zab\x00", b"zab\x00\x00"])
    assert not set(padded[1:]) & set(short)
    assert len(set(longer)) == len(windows(b"zab\x00\x00"))


def test_distinct_ngrams_rarely_collide_and_stay_in_range():
    letters = b"abcdefghijklmnopqrstuvwxyz0123456789-./"
    grams = [bytes(g) for g in itertools.product(letters, repeat=3)]  # 59,319 3-grams
    ids = np.concatenate([np.array(row) for row in ngram_ids(grams)])
    assert len(ids) == len(grams)
    collisions = len(grams) - len(set(ids.tolist()))
    # Uniform hashing of 59,319 keys into 2^20 buckets expects about 1,630 collisions
    assert collisions < 2_000
    odd = np.concatenate([np.array(row) for row in ngram_ids(grams[:5000], 1000)])
    assert odd.min() >= 0 and odd.max() < 1000
    assert max(Counter(odd.tolist()).values()) < 20  # about 5 per bucket expected
