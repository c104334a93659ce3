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
from tutor.agent.ask import best_similarity

__all__ = ["NAVIGATION", "ExplanationsOnly", "answer_parts", "question_parts"]


class ExplanationsOnly:
    """A retriever view for conceptual questions: no API docs, no navigation sections, every part searched."""

    def __init__(self, retriever: Any):
        self._search = getattr(retriever, "search", retriever)
        #: The view this one narrows (the name check looks there for API names: tutor/agent/name_gate.py).
        self.unscoped = retriever
        # The knowledge Retriever splits multi-part questions itself; splitting here as well
        # would search each part twice. Plain search functions (tests, tools) get it here.
        self._splits_itself = bool(getattr(retriever, "split_parts", False))

    def _one(self, query: str, k: int, feed: str | None, **kw: Any) -> list:
        # Ask deeper, then drop what is not explanation: the ranking of what is left is unchanged.
        # At least 40 deep: the relevance gate asks for the single nearest passage, and a question
        # naming an API ("a GRU layer than an LSTM") had its 4 nearest all in the docs, so the gate
        # saw no passage and refused 20 of the answers set's 264 questions and parts (docs/answers.md).
        hits = self._search(query, top_k=min(100, max(k * 4, 40)), feed=feed, **kw)
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


def answer_parts(question: str, retriever: Any, min_similarity: float) -> list[str]:
    """The parts the agent answers one by one: ``question_parts``, kept only if every later part stands alone.

    (The first part carries the question's subject.) A part stands alone when the sources find it on its own: its nearest passage passes the
    relevance gate. "..., and what are typical values?" or "..., and why is sampling slow?" refer
    back to the first part without a pronoun; answered alone they were refused by the gate (5 of
    the answers set's questions, docs/answers.md), so such a question is answered whole.
    """
    parts = question_parts(question)
    if len(parts) > 1:
        for part in parts[1:]:
            similarity = best_similarity(part, feed=None, retriever=retriever)
            if similarity is not None and similarity < min_similarity:
                return [question]
    return parts
