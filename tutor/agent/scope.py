"""Which passages a conceptual question should see: explanations, not API docstrings.

``router.question_scope`` tells a conceptual question ("what does dropout do?") from an API one; for
a conceptual one the agent searches through ``ExplanationsOnly``, a view of the retriever without the
docs feed. Measured on the first-run questions: with the docs in scope, "what does dropout do?"
drew torch's feature_alpha_dropout and nn.GRU docstrings ahead of the dropout paper note.
"""

from __future__ import annotations

import re
from typing import Any

#: Sections that only link elsewhere (the paper notes' "Roadmap links"): navigation, not content.
NAVIGATION = re.compile(r"(?:^|[>›]\s*)(?:roadmap links|see also|references)\s*$", re.IGNORECASE)
#: Where a two-part question splits: "what does X do, and how does Y ...".
_PARTS = re.compile(r"\s*(?:,\s*and|;|\band also\b|\?\s+and|\band)\s+(?=(?:how|what|why|when|which|where|is|are|does|do|can)\b)",
                    re.IGNORECASE)


def question_parts(question: str) -> list[str]:
    """The parts of a multi-part question, each a question of its own ("what does X do", "how does Y ...")."""
    parts = [p.strip(" ,;?") for p in _PARTS.split(question) if p and len(p.strip(" ,;?").split()) >= 3]
    return parts if len(parts) > 1 else [question]


class ExplanationsOnly:
    """A retriever view for conceptual questions: no API docs, no navigation sections, every part searched."""

    def __init__(self, retriever: Any):
        self._search = getattr(retriever, "search", retriever)

    def _one(self, query: str, k: int, feed: str | None, **kw: Any) -> list:
        # Ask deeper, then drop what is not explanation: the ranking of what is left is unchanged.
        hits = self._search(query, top_k=min(100, k * 4), feed=feed, **kw)
        return [h for h in hits if h.feed != "docs" and not NAVIGATION.search(h.section or "")][:k]

    def search(self, query: str, top_k: int | None = None, feed: str | None = None, **kw: Any) -> list:
        k = top_k or 5
        parts = question_parts(query)
        if len(parts) == 1 or kw.get("mode") == "dense" and k == 1:
            return self._one(query, k, feed, **kw)
        # One retrieval per part, interleaved best-first, so each part gets its passages.
        rankings = [self._one(part, k, feed, **kw) for part in parts]
        out, seen = [], set()
        for rank in range(k):
            for ranking in rankings:
                if rank < len(ranking):
                    hit = ranking[rank]
                    key = (hit.source, hit.section, hit.text[:80])
                    if key not in seen:
                        seen.add(key)
                        out.append(hit)
        return out[:k]
