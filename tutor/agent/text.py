"""Two small text tools the agent's parts share: a word stemmer and a sentence splitter.

Both are hand-written on purpose: they compare a learner's or the model's words with a passage's
words, always through the same function on both sides, so a light suffix strip is enough and
needs neither a language model nor a stemming library's vocabulary quirks.
"""

from __future__ import annotations

import re

_SUFFIXES = ("ization", "isation", "ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s", "ly")


def stem(word: str) -> str:
    """'Regularization' -> 'regular', 'networks' -> 'network', 'trained' -> 'train' (at least 4 letters kept)."""
    word = word.lower()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def sentences(text: str, *, min_chars: int = 30, max_chars: int | None = None, skip_lists: bool = False) -> list[str]:
    """The prose sentences of a markdown passage, in order.

    Code blocks and headings are dropped, bold/italic markers removed, and, with ``skip_lists``,
    bullet items too (they are notes, not explanations). Sentences shorter than ``min_chars``
    (fragments, captions) or longer than ``max_chars`` (run-on tables) are left out.
    """
    body = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    body = re.sub(r"^#+ .*$", " ", body, flags=re.MULTILINE)
    if skip_lists:
        body = re.sub(r"^\s*[-*] .*$", " ", body, flags=re.MULTILINE)
    body = re.sub(r"[*_]{2,}", "", body)
    parts = (s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(body.split())))
    return [s for s in parts if len(s) >= min_chars and (max_chars is None or len(s) <= max_chars)]
