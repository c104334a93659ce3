"""Which passages a conceptual question should see: explanations, not API docstrings.

``router.question_scope`` tells a conceptual question ("what does dropout do?") from an API one; for
a conceptual one the agent searches through ``ExplanationsOnly``, a view of the retriever without the
docs feed. Measured on the first-run questions: with the docs in scope, "what does dropout do?"
drew torch's feature_alpha_dropout and nn.GRU docstrings ahead of the dropout paper note.
"""

from __future__ import annotations

from typing import Any

# Both live in the knowledge layer now, where the retriever uses them itself (navigation chunks
# rank last, two-part questions are searched part by part); re-exported for the agent's tools.
from knowledge.navigation import NAVIGATION
from knowledge.questions import question_parts

__all__ = ["NAVIGATION", "ExplanationsOnly", "question_parts"]


class ExplanationsOnly:
    """A retriever view for conceptual questions: no API docs, no navigation sections, every part searched."""

    def __init__(self, retriever: Any):
        self._search = getattr(retriever, "search", retriever)
        # The knowledge Retriever splits multi-part questions itself; splitting here as well
        # would search each part twice. Plain search functions (tests, tools) get it here.
        self._splits_itself = bool(getattr(retriever, "split_parts", False))

    def _one(self, query: str, k: int, feed: str | None, **kw: Any) -> list:
        # Ask deeper, then drop what is not explanation: the ranking of what is left is unchanged.
        hits = self._search(query, top_k=min(100, k * 4), feed=feed, **kw)
        return [h for h in hits if h.feed != "docs" and not NAVIGATION.search(h.section or "")][:k]

    def search(self, query: str, top_k: int | None = None, feed: str | None = None, **kw: Any) -> list:
        k = top_k or 5
        parts = [query] if self._splits_itself else question_parts(query)
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
