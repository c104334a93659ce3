"""Datasets: deterministic splits, shapes, and a sentiment set where order decides the label."""

from __future__ import annotations

import numpy as np

from tutor.lab.data import bag_of_words, digits_split, encode, sentiment_sentences, sentiment_split


def test_digits_split_is_deterministic_stratified_and_sized():
    a, b = digits_split(seed=0), digits_split(seed=0)
    assert np.array_equal(a.X_test, b.X_test)
    assert a.sizes() == {"train": 1167, "val": 270, "test": 360}
    assert a.X_train.shape[1:] == (8, 8) and a.X_train.dtype == np.float32
    assert 0.0 <= a.X_train.min() and a.X_train.max() <= 1.0
    assert set(np.bincount(a.y_test)) <= {35, 36, 37}  # every digit about equally often
    big = digits_split(seed=0, size=28)
    assert big.X_train.shape[1:] == (28, 28) and np.array_equal(big.y_test, a.y_test)


def test_sentiment_labels_follow_negation_and_but_clauses():
    texts, labels = sentiment_sentences(3000, seed=0)
    by_text = dict(zip(texts, labels))
    assert abs(labels.mean() - 0.5) < 0.05
    plain = [t for t in by_text if " was not bad" in t and " but " not in t and "although" not in t]
    assert plain and all(by_text[t] == 1 for t in plain)  # "not bad" is positive
    buts = [t for t in by_text if " but " in t and " was boring" in t.split(" but ")[-1]]
    assert buts and all(by_text[t] == 0 for t in buts)  # the clause after "but" decides


def test_sentiment_split_encoding_prepads_and_shares_vocabulary():
    s = sentiment_split(n=1000)
    assert s.X_train.shape[1] == 32 and s.X_train.dtype == np.int64
    assert (s.X_train[:, -1] > 0).all()  # pre-padded: the last position is a real word
    assert s.vocab_size < 10000  # fits the roadmap's Embedding(input_dim=10000)
    ids = encode(["not bad zzz"], s.vocab, 5)[0]
    assert ids[:2].tolist() == [0, 0] and ids[-1] == 1  # unknown word -> 1
    counts = bag_of_words(s.X_test[:3], s.vocab_size)
    assert counts.sum() == (s.X_test[:3] > 0).sum()
