"""Which passages a conceptual question should see: explanations, not API docstrings.

``router.question_scope`` tells a conceptual question ("what does dropout do?") from an API one; for
a conceptual one the agent searches through ``ExplanationsOnly``, a view of the retriever without the
docs feed. Measured on the first-run questions: with the docs in scope, "what does dropout do?"
drew torch's feature_alpha_dropout and nn.GRU docstrings ahead of the dropout paper note.
"""

from __future__ import annotations

from typing import Any


class ExplanationsOnly:
    """A retriever view without the API-docs feed (roadmap, paper notes and the learner's files)."""

    def __init__(self, retriever: Any):
        self._search = getattr(retriever, "search", retriever)

    def search(self, query: str, top_k: int | None = None, feed: str | None = None, **kw: Any) -> list:
        k = top_k or 5
        # Ask deeper, then drop docs hits: the ranking of what is left is unchanged.
        hits = self._search(query, top_k=min(100, k * 4), feed=feed, **kw)
        return [h for h in hits if h.feed != "docs"][:k]
