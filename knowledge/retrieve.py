"""Hybrid retrieval: dense vectors from Qdrant fused with BM25 by reciprocal rank fusion.

Dense search finds paraphrases ("how do networks learn from mistakes" → backpropagation),
BM25 finds exact names ("torch.nn.LSTM", "Adam", "LoRA") that a 384-dim sentence vector
blurs. Reciprocal rank fusion (score = Σ 1/(k + rank)) needs no score calibration between the
two, which is why it is used instead of a weighted sum.

Three things shape the ranking a learner sees, whatever the mode:

* a question with two parts is searched part by part and the rankings interleaved
  (``knowledge.questions``);
* chunks of navigation sections (flagged by the parser: "Roadmap links" and the like) come
  after every chunk that explains something;
* in hybrid mode, optionally (``diversify``; off by default since the tune half preferred
  it off), the best chunk of each source comes before a second chunk of any source.

Searching never builds anything: the faces build the default corpus explicitly (with
progress) before the first search, and a search of an empty knowledge base says so.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from knowledge.bm25 import BM25Index, bm25_is_fresh, rebuild_bm25, record, stamp_path
from knowledge.citation import Citation
from knowledge.ledger import Ledger
from knowledge.questions import question_parts
from knowledge.store import Store
from tutor.config import FEEDS, Settings, get_settings
from tutor.errors import OfflineError, TutorError, check_choice, check_text, check_top_k

__all__ = ["MODES", "Retriever", "bm25_is_fresh", "get_retriever", "rebuild_bm25", "search"]

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")
# Fusion settings, chosen on the *tune* half of evals/datasets/retrieval.jsonl only, by the
# rule in benchmarks/retrieval.py --tune (best tune hit@5; settings within one question of it
# are ties, broken by the MLQuestions tune rows). RRF's paper uses k=60, tuned for fusing many
# long runs; with two lists of 40, a small k lets a passage one retriever is sure of win.
# Dense votes 1.5x (on MLQuestions' paraphrased questions dense alone beats BM25 by 0.2
# hit@5). Source diversification (best chunk of each source first) lost a question on the tune
# half in every tie: off. Grid and held-out numbers: docs/retrieval.md.
RRF_K = 10
DENSE_WEIGHT = 1.5  # the dense list's vote in the fusion (BM25's is 1)
DIVERSIFY = False
CANDIDATES = 40  # hits taken from each retriever before fusion


def _citation(rec: dict, score: float) -> Citation:
    return Citation(
        text=rec.get("text", ""),
        source=rec.get("source", ""),
        title=rec.get("title") or "",
        section=rec.get("section") or "",
        page=rec.get("page"),
        url=rec.get("url"),
        version=rec.get("version"),
        feed=rec.get("feed", ""),
        score=float(score),
    )


# --------------------------------------------------------------------------- reranker
@lru_cache(maxsize=2)
def _load_reranker(name: str):
    path = Path(name).expanduser()
    if not path.is_dir():
        raise OfflineError(
            f"reranker '{name}' is not a local folder and models are not downloaded at run time; "
            "set TUTOR_RERANKER to a cross-encoder folder, or unset it"
        )
    try:
        from sentence_transformers import CrossEncoder

        return CrossEncoder(str(path), device="cpu", local_files_only=True)
    except Exception as exc:
        raise TutorError(f"reranker at {path} could not be loaded ({exc.__class__.__name__}: {exc})") from None


# --------------------------------------------------------------------------- retriever
class Retriever:
    """Search the knowledge base; results are ``Citation`` records, best first.

    ``rrf_k``, ``dense_weight``, ``diversify`` and ``split_parts`` default to the tuned
    behaviour; the tuning script (``benchmarks/retrieval.py --tune``) changes them to compare
    settings on the same rankings.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        rrf_k: int = RRF_K,
        dense_weight: float = DENSE_WEIGHT,
        diversify: bool = DIVERSIFY,
        split_parts: bool = True,
    ):
        self.settings = settings or get_settings()
        self.store = Store(self.settings)
        self.rrf_k = rrf_k
        self.dense_weight = dense_weight
        self.diversify = diversify
        self.split_parts = split_parts
        self._embedding = None
        self._bm25: BM25Index | None = None
        self._lock = threading.RLock()
        self._ready = False

    # -- lazy parts ----------------------------------------------------------------------
    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            if not Ledger(self.settings).sources:
                raise TutorError(
                    "the knowledge base is empty: build it first with `tutor ingest` "
                    "(the CLI's ask/chat/search and the page build it on first use)"
                )
            if not bm25_is_fresh(self.settings):
                rebuild_bm25(self.settings)
            self._ready = True

    def _encoder(self):
        if self._embedding is None:
            from knowledge.embed import get_encoder

            self._embedding = get_encoder(self.settings)
        return self._embedding

    def _bm25_index(self) -> BM25Index:
        stamp = stamp_path(self.settings)
        try:
            mtime = stamp.stat().st_mtime_ns
        except OSError:
            rebuild_bm25(self.settings)
            mtime = stamp.stat().st_mtime_ns
        if self._bm25 is None or self._bm25.stamp_mtime != mtime:
            self._bm25 = BM25Index(self.settings)
        return self._bm25

    # -- the three retrievers --------------------------------------------------------------
    def dense(self, query: str, k: int, feed: str | None) -> list[tuple[dict, float]]:
        vector = self._encoder().encode([query])[0]
        # Ids and scores only: the texts and citation fields come from the BM25 corpus already
        # in memory (same records, same freshness stamp); a point it lacks is fetched.
        points = self.store.query(vector, k, feed, with_payload=False)
        known = self._bm25_index().by_id
        missing = [p.id for p in points if str(p.id) not in known]
        fetched = {str(p.id): record(p.id, p.payload or {}) for p in self.store.retrieve(missing)}
        hits = []
        for p in points:
            rec = known.get(str(p.id)) or fetched.get(str(p.id))
            if rec is not None:
                hits.append((rec, float(p.score)))
        return hits

    def bm25(self, query: str, k: int, feed: str | None) -> list[tuple[dict, float]]:
        return self._bm25_index().search(query, k, feed)

    def search(self, query: str, top_k: int | None = None, feed: str | None = None, mode: Mode = "hybrid") -> list[Citation]:
        """Best passages for ``query``. ``feed`` filters to one feed; ``mode`` picks the retriever."""
        check_text(query if isinstance(query, str) else None, "search query")
        top_k = check_top_k(self.settings.top_k if top_k is None else top_k)
        if feed is not None:
            check_choice(feed, FEEDS, "feed")
        check_choice(mode, MODES, "search mode")
        self._ensure_ready()
        query = query.strip()
        parts = question_parts(query) if self.split_parts else [query]
        with self._lock:
            if len(parts) == 1:
                hits = self._rank(query, top_k, feed, mode)
            else:
                hits = interleave([self._rank(part, top_k, feed, mode) for part in parts])
        return [_citation(rec, score) for rec, score in hits[:top_k]]

    def _rank(self, query: str, top_k: int, feed: str | None, mode: str) -> list[tuple[dict, float]]:
        depth = max(CANDIDATES, top_k * 3)
        dense = self.dense(query, depth, feed) if mode != "bm25" else []
        keyword = self.bm25(query, depth, feed) if mode != "dense" else []
        return self.fuse(query, dense, keyword, mode)

    def fuse(self, query: str, dense: list, keyword: list, mode: str) -> list[tuple[dict, float]]:
        """One ranking from the dense and BM25 lists: fusion, reranker, diversification, navigation last."""
        if mode == "dense":
            hits = dense
        elif mode == "bm25":
            hits = keyword
        else:
            hits = reciprocal_rank_fusion([dense, keyword], k=self.rrf_k, weights=(self.dense_weight, 1.0))
        if self.settings.reranker and hits:
            hits = self._rerank(query, hits)
        if mode == "hybrid" and self.diversify:
            hits = diversify_sources(hits)
        return content_first(hits)

    def _rerank(self, query: str, hits: list[tuple[dict, float]]) -> list[tuple[dict, float]]:
        model = _load_reranker(self.settings.reranker)
        scores = model.predict([(query, rec["text"]) for rec, _ in hits], show_progress_bar=False)
        order = np.argsort(-np.asarray(scores), kind="stable")
        return [(hits[i][0], float(scores[i])) for i in order]


def content_first(hits: list[tuple[dict, float]]) -> list[tuple[dict, float]]:
    """Chunks of navigation sections after every other chunk, each group in its own order.

    Not dropped: a search for "what does the roadmap link to dropout" may still want one,
    and with nothing else to show they fill the slots.
    """
    return [h for h in hits if not h[0].get("navigation")] + [h for h in hits if h[0].get("navigation")]


def interleave(rankings: list[list[tuple[dict, float]]]) -> list[tuple[dict, float]]:
    """Merge per-part rankings best-first (1st of each part, then 2nd of each ...), without repeats."""
    out: list[tuple[dict, float]] = []
    seen: set[str] = set()
    for rank in range(max((len(r) for r in rankings), default=0)):
        for ranking in rankings:
            if rank < len(ranking) and ranking[rank][0]["id"] not in seen:
                seen.add(ranking[rank][0]["id"])
                out.append(ranking[rank])
    return out


def reciprocal_rank_fusion(
    rankings: list[list[tuple[dict, float]]], k: int = RRF_K, weights: tuple[float, ...] | None = None
) -> list[tuple[dict, float]]:
    """Fuse ranked lists of ``(record, score)`` by Σ w/(k + rank); ties keep first-seen order."""
    fused: dict[str, float] = {}
    records: dict[str, dict] = {}
    weights = weights or (1.0,) * len(rankings)
    for weight, ranking in zip(weights, rankings):
        for rank, (rec, _) in enumerate(ranking, start=1):
            key = rec["id"]
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
            records.setdefault(key, rec)
    order = sorted(fused, key=lambda key: -fused[key])
    return [(records[key], fused[key]) for key in order]


def diversify_sources(hits: list[tuple[dict, float]]) -> list[tuple[dict, float]]:
    """Best chunk of each source first, then the remaining chunks, each group in fused order.

    A paper note or a long API page is split into several chunks that tend to rank together;
    five chunks of one paper would crowd out the other sources a learner should see (and
    that the answer can cite). Nothing is dropped: with fewer sources than slots (a
    roadmap-only search) the later chunks fill in. It helped on the whole question set once
    (0.902 -> 0.909) but lost a question on the tune half, so ``DIVERSIFY`` is off.
    """
    seen: set[str] = set()
    first, rest = [], []
    for rec, score in hits:
        src = rec.get("source", rec["id"])
        (rest if src in seen else first).append((rec, score))
        seen.add(src)
    return first + rest


# --------------------------------------------------------------------------- module API
_RETRIEVERS: dict[tuple, Retriever] = {}
_RETRIEVERS_LOCK = threading.Lock()


def get_retriever(settings: Settings | None = None) -> Retriever:
    """The process-wide retriever for the current settings (the UI and CLI share it)."""
    settings = settings or get_settings()
    key = (str(settings.home), settings.qdrant_url, settings.collection, settings.embed_model, settings.embed_backend)
    with _RETRIEVERS_LOCK:
        retriever = _RETRIEVERS.get(key)
        if retriever is None:
            retriever = _RETRIEVERS[key] = Retriever(settings)
        return retriever


def search(query: str, top_k: int | None = None, feed: str | None = None, mode: Mode = "hybrid") -> list[Citation]:
    """Search with the process-wide retriever (the knowledge base must have been built)."""
    return get_retriever().search(query, top_k=top_k, feed=feed, mode=mode)
