"""When the model writes no answer from relevant passages, show what the passages say instead.

Measured on the answers sample (docs/answers.md), a third of the 0.5B model's answers to questions
the knowledge base does hold were no answer at all: "[1] My sources don't cover that." although the
relevance gate had found the passage, a bare "[1]", or the learner's question repeated back. A
learner shown that is misled (the sources do cover it) or gets nothing. This stage sits after
attribution (so it sees whole sentences) and before the citation rewriter:

- a sentence that refuses ("my sources don't cover that"), repeats the question, or is only
  markers is dropped while no real sentence has come yet; once one has, everything streams;
- very short pieces at the start ("No.", "1.") are held until a real sentence follows;
- if the stream ends with no real sentence, the reply is the passages' sentences closest in meaning
  to the question (the retrieval encoder), quoted and cited, and it says that it is quoting;
- unless even the closest sentence is far from the question (``MIN_SIMILARITY``): then the
  model's refusal was probably right, and the reply says the sources don't cover it.

Hand-written: a sentence filter over a token stream, like ``paste_guard`` and ``attribution``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from tutor.agent.attribution import content_words, filtered, next_sentence

_MARKER = re.compile(r"\[\d+\]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_REFUSAL = re.compile(r"\b(?:(?:my |the )?(?:sources?|passages?) (?:do(?:n't| not)|does(?:n't| not)) (?:cover|answer|say)"
                      r"|cannot answer|can't answer|no information (?:about|on)|not (?:covered|mentioned) in the passages)",
                      re.IGNORECASE)
#: Share of a sentence's content words that, when all found in the question, make it an echo.
ECHO_SHARE = 0.8
#: A sentence with fewer content words is held, not judged ("No.", "1.", "ReLU").
MIN_WORDS = 2
#: How many quoted sentences the fallback shows.
QUOTED = 2
LEAD = "My model could not write an answer from my sources this time, so here is what they say that comes closest:"
#: Cosine similarity (retrieval encoder) the closest passage sentence needs for the quotes to be shown.
#: Set on the full answers run of 3 Dec evening (docs/answers.md, run 3): of the 70 rescued answers
#: to answerable questions, the 19 whose closest sentence was below 0.5 were correct 2 times; the
#: 51 above it, 23 times; the three rescued unanswerable questions ("Llama 3 405B's cost", "top of
#: the ImageNet leaderboard this month") sat at 0.41-0.45. In-sample: to be confirmed on a new set.
MIN_SIMILARITY = 0.5
DECLINED = "My sources don't cover that closely enough for me to answer, so I won't guess."


def is_refusal_or_echo(sentence: str, question: str) -> bool:
    """A sentence that refuses, or only repeats the learner's question (no new words, no new numbers)."""
    if _REFUSAL.search(sentence):
        return True
    bare = _MARKER.sub(" ", sentence)
    words = content_words(bare)
    if set(_NUMBER.findall(bare)) - set(_NUMBER.findall(question)):
        return False  # "the minimum is about -0.17": words from the question, and the answer
    return len(words) >= 3 and len(words & content_words(question)) / len(words) >= ECHO_SHARE


def closest_sentences(question: str, passages: Sequence[str], encode: Callable[[list[str]], np.ndarray],
                      k: int = QUOTED, min_similarity: float = -1.0) -> list[tuple[int, str]]:
    """The ``k`` passage sentences closest in meaning to ``question``: (passage number, sentence).

    Only sentences with at least ``min_similarity`` (cosine) count.
    """
    return [(n, sentence) for score, n, sentence in _scored(question, passages, encode, k) if score >= min_similarity]


def _scored(question: str, passages: Sequence[str], encode: Callable[[list[str]], np.ndarray],
            k: int) -> list[tuple[float, int, str]]:
    """The ``k`` quotable passage sentences closest to ``question``, best first: (cosine, passage number, sentence)."""
    candidates = []
    for n, text in enumerate(passages, 1):
        prose = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
        for line in prose.splitlines():
            if line.lstrip().startswith(("#", "|", "-", "*", ">")):
                continue  # headings, tables and list items read badly out of context
            for sentence in re.split(r"(?<=[.!?])\s+", line.strip()):
                # A whole sentence: capitalised ("(1993) later showed" is the tail of "et al. (1993)").
                if 40 <= len(sentence) <= 400 and sentence[-1:] in ".!?" and sentence[:1].isupper():
                    candidates.append((n, sentence))
    if not candidates:
        return []
    vecs = np.asarray(encode([question] + [s for _, s in candidates]), dtype=np.float32)
    vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
    scores = vecs[1:] @ vecs[0]
    return [(float(scores[i]), *candidates[i]) for i in np.argsort(-scores)[:k]]


def quoted_answer(picked: Sequence[tuple[int, str]]) -> str:
    # The marker inside the sentence, before its full stop, as the model and attribution write it.
    quotes = "\n\n".join(f"> {sentence[:-1]} [{n}]{sentence[-1]}" for n, sentence in picked)
    return f"{LEAD}\n\n{quotes}"


class AnswerRescue:
    """Feed it attributed text; it drops a non-answer and, at the end, quotes the passages if nothing was said."""

    def __init__(self, question: str, passages: Sequence[str], encode: Callable[[list[str]], np.ndarray]):
        self._question = question
        self._passages = passages
        self._encode = encode
        self._pending = ""
        self._held = ""
        self.answered = False  # a real sentence has been let through
        self.rescued = False  # the reply is the quoted fallback
        self.declined = False  # no answer, and nothing close enough to quote: the reply says so
        self.dropped: list[str] = []

    def feed(self, delta: str) -> str:
        if self.answered:
            return delta
        self._pending += delta
        out = []
        while not self.answered and (split := next_sentence(self._pending)) is not None:
            sentence, self._pending = split
            out.append(self._judge(sentence))
        if self.answered:
            out.append(self._pending)
            self._pending = ""
        return "".join(out)

    def flush(self) -> str:
        if self.answered:
            return ""
        tail = self._judge(self._pending)
        self._pending = ""
        if self.answered:
            return tail
        scored = _scored(self._question, self._passages, self._encode, QUOTED)  # one encoding for both checks
        if not scored:
            return self._held  # nothing quotable: nothing better to show than what the model wrote
        picked = [(n, sentence) for score, n, sentence in scored if score >= MIN_SIMILARITY]
        if not picked:
            self.declined = True
            return DECLINED
        self.rescued = True
        return quoted_answer(picked)

    def _judge(self, sentence: str) -> str:
        if not sentence.strip():
            self._held += sentence
            return ""
        if is_refusal_or_echo(sentence, self._question):
            self.dropped.append(sentence.strip())
            return ""
        if len(content_words(_MARKER.sub(" ", sentence))) < MIN_WORDS:
            self._held += sentence
            return ""
        self.answered = True
        held, self._held = self._held.lstrip(), ""
        return (held + sentence) if held.strip() else sentence.lstrip()


def rescued(deltas: Iterator[str], stage: AnswerRescue) -> Iterator[str]:
    return filtered(deltas, stage)
