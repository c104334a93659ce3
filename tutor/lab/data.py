"""Small datasets the lab recipes share: scikit-learn's digits and a generated sentiment set.

Both ship offline (digits is bundled with scikit-learn; the sentiment set is generated from a
grammar below), load in well under a second, and split deterministically so two runs that
differ only in their model seed are measured on the very same test set.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Recipes split their data with this seed, independent of the run's seed: comparing run A
# with run B should compare models, not two different random test sets.
DATA_SEED = 0


@dataclass(frozen=True)
class Split:
    """Arrays of one dataset split three ways. ``X_*`` float32, ``y_*`` int64."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


def _three_way(X, y, seed: int, val: float, test: float, stratify: bool = True) -> Split:
    from sklearn.model_selection import train_test_split

    if not (0 < val < 1 and 0 < test < 1 and val + test < 1):
        raise ValueError(f"val and test must be fractions with val + test < 1 (got {val}, {test})")
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test, random_state=seed, stratify=y if stratify else None
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val / (1 - test), random_state=seed, stratify=y_rest if stratify else None
    )
    return Split(X_train, y_train, X_val, y_val, X_test, y_test)


# --- digits ---------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _digits_images(size: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)  # pixel values 0..16 -> 0..1
    if size != 8:
        # The roadmap's CNN expects 28x28 inputs (MNIST's size). Bilinear zoom of the 8x8
        # scans keeps the digit shapes; it adds no information, only the expected shape.
        from scipy.ndimage import zoom

        factor = size / 8.0
        images = zoom(images, (1.0, factor, factor), order=1).astype(np.float32)
        images = np.clip(images, 0.0, 1.0)
    return images, digits.target.astype(np.int64)


def digits_split(seed: int = DATA_SEED, val: float = 0.15, test: float = 0.2, size: int = 8) -> Split:
    """scikit-learn's 1,797 handwritten digits as ``(N, size, size)`` images in [0, 1].

    ``size`` 8 is the native resolution; 28 upsamples to the roadmap's ``input_shape``.
    The split is stratified by class.
    """
    if size not in (8, 28):
        raise ValueError(f"size must be 8 or 28 (got {size})")
    images, labels = _digits_images(size)
    return _three_way(images, labels, seed, val, test)


# --- generated sentiment ----------------------------------------------------------------------
#
# Why generate: no sentiment corpus ships offline, and a real one (IMDB) would need a
# download and minutes of training. This grammar is built so that word ORDER decides the
# label, which is exactly what the roadmap's LSTM adds over a bag of words:
#   - negation flips the adjective that follows it: "not bad" is positive, "never boring" too;
#   - intensifiers ("very", "really") sit between a negator and its adjective and change nothing;
#   - in "A but B" and "although A , B" the second clause decides the review, in
#     "A , although B" the first one does.
# Sentences like "the plot was not good but the acting was not bad" and "the plot was not bad
# but the acting was not good" contain the same words with opposite labels, so no
# bag-of-words model can beat chance on them.

POSITIVE = ["good", "great", "fun", "brilliant", "charming", "exciting", "moving", "clever", "funny", "beautiful"]
NEGATIVE = ["bad", "boring", "dull", "awful", "terrible", "silly", "slow", "bland", "messy", "predictable"]
NEGATORS = ["not", "never", "hardly"]
INTENSIFIERS = ["very", "really", "truly", "quite", "so"]
SUBJECTS = [
    "the movie", "the film", "the plot", "the acting", "the ending", "the script", "the soundtrack",
    "the story", "the cast", "this show", "the dialogue", "the pacing", "the director's work",
]
VERBS = ["was", "is", "felt", "seemed"]
TAILS = ["", "", "", "in the end", "if you ask me", "for sure", "at least for me", "all things considered"]
OPENERS = ["", "", "", "honestly ,", "overall ,", "i think", "to be fair ,", "in my view ,"]


def _clause(rng: random.Random) -> tuple[list[str], int]:
    """One clause "<subject> <verb> [negator] [intensifier] <adjective>" and its polarity."""
    polarity = rng.random() < 0.5
    adjective = rng.choice(POSITIVE if polarity else NEGATIVE)
    words = rng.choice(SUBJECTS).split() + [rng.choice(VERBS)]
    negated = rng.random() < 0.4
    if negated:
        words.append(rng.choice(NEGATORS))
        polarity = not polarity
    if rng.random() < 0.35:
        words.append(rng.choice(INTENSIFIERS))
    words.append(adjective)
    return words, int(polarity)


def _sentence(rng: random.Random) -> tuple[str, int]:
    opener = rng.choice(OPENERS).split()
    first, label_first = _clause(rng)
    shape = rng.random()
    if shape < 0.3:  # one clause: only negation and intensifiers to read
        words, label = opener + first, label_first
    else:
        second, label_second = _clause(rng)
        if shape < 0.6:  # "A but B": B decides
            words, label = opener + first + ["but"] + second, label_second
        elif shape < 0.8:  # "although A , B": B decides, the concession comes first
            words, label = opener + ["although"] + first + [","] + second, label_second
        else:  # "A , although B": A decides, so the model must remember the start
            words, label = opener + first + [",", "although"] + second, label_first
    # A trailing phrase keeps the decisive words away from the end of the sentence.
    return " ".join(words + rng.choice(TAILS).split()), label


@dataclass(frozen=True)
class TextSplit:
    """Token-id sequences (pre-padded with 0, so a left-to-right RNN ends on real words)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    vocab: dict[str, int]  # word -> id; 0 is padding, 1 unknown
    texts_test: list[str]

    @property
    def vocab_size(self) -> int:
        return len(self.vocab) + 2

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


def sentiment_sentences(n: int = 6000, seed: int = DATA_SEED) -> tuple[list[str], np.ndarray]:
    """``n`` generated reviews and their 0/1 labels; duplicates are kept (they are rare)."""
    rng = random.Random(seed)
    pairs = [_sentence(rng) for _ in range(n)]
    return [p[0] for p in pairs], np.array([p[1] for p in pairs], dtype=np.int64)


def tokenize(text: str) -> list[str]:
    # The generator writes lowercase words separated by spaces (commas are their own
    # token), so whitespace splitting is the whole tokenizer.
    return text.lower().split()


def build_vocab(texts: list[str]) -> dict[str, int]:
    words = sorted({w for t in texts for w in tokenize(t)})
    return {w: i + 2 for i, w in enumerate(words)}


def encode(texts: list[str], vocab: dict[str, int], max_len: int) -> np.ndarray:
    out = np.zeros((len(texts), max_len), dtype=np.int64)
    for row, text in enumerate(texts):
        ids = [vocab.get(w, 1) for w in tokenize(text)][-max_len:]
        out[row, max_len - len(ids) :] = ids
    return out


def sentiment_split(
    n: int = 6000, seed: int = DATA_SEED, val: float = 0.15, test: float = 0.2, max_len: int = 32
) -> TextSplit:
    """The generated sentiment set, split train/val/test, vocabulary built from the training texts."""
    texts, labels = sentiment_sentences(n, seed)
    idx = np.arange(len(texts))
    parts = _three_way(idx, labels, seed, val, test)
    train_texts = [texts[i] for i in parts.X_train]
    vocab = build_vocab(train_texts)

    def enc(ids: np.ndarray) -> np.ndarray:
        return encode([texts[i] for i in ids], vocab, max_len)

    return TextSplit(
        enc(parts.X_train), parts.y_train, enc(parts.X_val), parts.y_val, enc(parts.X_test), parts.y_test,
        vocab, [texts[i] for i in parts.X_test],
    )


def bag_of_words(X: np.ndarray, vocab_size: int) -> np.ndarray:
    """Word counts per sequence (padding dropped): the order-blind view of the same data."""
    counts = np.zeros((len(X), vocab_size), dtype=np.float32)
    for row, ids in enumerate(X):
        np.add.at(counts[row], ids[ids > 0], 1.0)
    return counts
