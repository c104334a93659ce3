"""Questions with more than one part: "what does X do, and how does Y fight Z?".

One embedding of a two-part question lands between its two topics and BM25 ranks passages
that share words with either; in the first-run question of ``scripts/start.sh`` the dropout
part won all five places and nothing about backpropagation came back. So the retriever
searches each part on its own and interleaves the rankings.
"""

from __future__ import annotations

import re

# Where a question splits: a comma/semicolon/"and" followed by a new question word. "and"
# alone inside a noun phrase ("dropout and batch norm") is not followed by one, so it stays.
_PARTS = re.compile(
    r"\s*(?:,\s*and|;|\band also\b|\?\s+and|\?|\band)\s+"
    r"(?=(?:how|what|why|when|which|where|who|is|are|does|do|can|should)\b)",
    re.IGNORECASE,
)
_MIN_WORDS = 3  # a "part" shorter than this ("and why?") is not a question of its own
_QUESTION_START = re.compile(r"^(?:how|what|why|when|which|where|who|is|are|does|do|can|should)\b", re.IGNORECASE)
# A later part that points back ("and why can't *it* solve XOR", "what does *that* say") is
# the same topic asked twice, not a second topic: searched alone it has nothing to search
# for. On the retrieval questions, splitting those cost hit@5 on the tune half.
_BACK_REFERENCE = re.compile(r"\b(?:it|its|they|them|their|this|these|those|that|there)\b", re.IGNORECASE)


def question_parts(question: str) -> list[str]:
    """The parts of a multi-part question, each a question of its own; ``[question]`` when it has one part.

    A question splits only when every part starts like a question ("what does X do, and how
    does Y ...") and no later part refers back to an earlier one.
    """
    parts = [p.strip(" ,;?") for p in _PARTS.split(question) if p and p.strip(" ,;?")]
    if len(parts) < 2 or any(len(p.split()) < _MIN_WORDS for p in parts):
        return [question]
    if not _QUESTION_START.match(parts[0]) or any(_BACK_REFERENCE.search(p) for p in parts[1:]):
        return [question]
    return parts
