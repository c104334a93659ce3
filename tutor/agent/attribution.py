"""Inline citations for sentences the model left uncited, by what they share with a passage.

The 0.5B default model put an inline [n] in 0 of 26 faithfulness answers (docs/faithfulness.md),
whatever the prompt said. This sits between the model's stream and ``citations.CitationRewriter``:
it holds each sentence until it ends, and when the sentence cites nothing, appends the marker of the
passage it shares the most content words with, if that passage holds at least half of the
sentence's content words (and three or more). A sentence no passage supports stays unmarked, so a
marker always points at a passage that holds the words of the sentence citing it. Streaming stays
exact: what the learner sees is what the answer says, one sentence later than the raw tokens.

Hand-written: matching model sentences to given passages by shared words is a few lines, and no
library attributes citations in a token stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from tutor.agent.text import stem

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-]+")
_STOP = set("""the a an and or of to in on for with by from as at is are was were be been being it its this that these
those which who what when where why how than then so such can could may might will would should do does did not no
into over under between about after before during each also very more most much many some any all one two their there
they them you your we our us he she his her i me my used use uses using like just only same other""".split())
#: At least this share of a sentence's content words must be in the passage it is attributed to.
MIN_SHARE = 0.5
MIN_SHARED = 3
_END = re.compile(r"(?<=[.!?])(?=\s)|\n")


def content_words(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall(text) if w.lower() not in _STOP and len(w) > 2}


def next_sentence(pending: str) -> tuple[str, str] | None:
    """(the first complete sentence, the rest) of streamed text, or None while it is unfinished.

    A sentence ends at ".", "!" or "?" before whitespace (the whitespace stays with the rest) or
    at a newline (kept with the sentence).
    """
    m = _END.search(pending)
    if not m:
        return None
    cut = m.end() if m.group(0) == "\n" else m.start()
    return pending[:cut], pending[cut:]


def best_passage(sentence: str, passages: Sequence[set[str]]) -> int | None:
    """1-based number of the passage that supports ``sentence``, or None."""
    words = content_words(sentence)
    if len(words) < MIN_SHARED:
        return None
    best, best_n = 0, None
    for n, passage in enumerate(passages, 1):
        shared = len(words & passage)
        if shared > best:
            best, best_n = shared, n
    if best_n is None or best < MIN_SHARED or best / len(words) < MIN_SHARE:
        return None
    return best_n


class SentenceAttributor:
    """Feed it the model's text deltas; it returns text with a marker after each supported, uncited sentence."""

    def __init__(self, passage_texts: Sequence[str]):
        self._passages = [content_words(t) for t in passage_texts]
        self._pending = ""
        self._fence = False
        self.added = 0  # markers this attributor added

    def feed(self, delta: str) -> str:
        self._pending += delta
        out = []
        while (split := next_sentence(self._pending)) is not None:
            sentence, self._pending = split
            out.append(self._mark(sentence))
        return "".join(out)

    def flush(self) -> str:
        sentence, self._pending = self._pending, ""
        return self._mark(sentence)

    def _mark(self, sentence: str) -> str:
        if sentence.count("```") % 2:
            self._fence = not self._fence
        if self._fence or "```" in sentence or re.search(r"\[\d", sentence) or not sentence.strip():
            return sentence
        n = best_passage(sentence, self._passages)
        if n is None:
            return sentence
        self.added += 1
        stripped = sentence.rstrip()
        tail = sentence[len(stripped):]
        if stripped[-1:] in ".!?":
            return f"{stripped[:-1]} [{n}]{stripped[-1]}{tail}"
        return f"{stripped} [{n}]{tail}"


def filtered(deltas: Iterator[str], stage) -> Iterator[str]:
    """Run a text stream through a stage with ``feed(delta) -> text`` and ``flush() -> text``."""
    for delta in deltas:
        text = stage.feed(delta)
        if text:
            yield text
    tail = stage.flush()
    if tail:
        yield tail


def attributed(deltas: Iterator[str], passage_texts: Sequence[str]) -> Iterator[str]:
    return filtered(deltas, SentenceAttributor(passage_texts))
