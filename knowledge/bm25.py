"""The keyword side of retrieval: a BM25 index (bm25s) over every chunk in the store.

The index is derived data: it is rebuilt from the store's payloads after every ingestion run
and persisted under ``state_dir/bm25``; a stamp ties it to the ingestion ledger's generation
so a killed run or a second process is noticed and the index rebuilt. It also keeps each
chunk's citation fields in memory, so dense search can return ids only and take the texts
from here.

Its own module so that the pipeline (which refreshes it) and the retriever (which reads it)
both import it, and neither imports the other.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.ledger import Ledger
from knowledge.store import Store
from tutor.config import FEEDS, Settings, get_settings

# bm25s logs every index build at DEBUG; keep it quiet whatever the root logger says.
logging.getLogger("bm25s").setLevel(logging.WARNING)

#: Payload fields a record keeps: what a citation shows, plus the navigation flag the ranking reads.
RECORD_KEYS = ("source", "title", "section", "page", "url", "version", "feed", "navigation")


# --------------------------------------------------------------------------- payloads
def _text_of(payload: dict) -> str:
    raw = payload.get("_node_content")
    if raw:
        try:
            return json.loads(raw).get("text", "")
        except ValueError:
            pass
    return payload.get("text", "")


def record(point_id: Any, payload: dict) -> dict:
    """What the BM25 corpus keeps per node: the citation fields and the text."""
    rec = {"id": str(point_id), "text": _text_of(payload)}
    for key in RECORD_KEYS:
        if payload.get(key) is not None:
            rec[key] = payload[key]
    return rec


# --------------------------------------------------------------------------- BM25 index
def _bm25_dir(settings: Settings) -> Path:
    return settings.state_dir / "bm25" / settings.collection


def stamp_path(settings: Settings) -> Path:
    return _bm25_dir(settings) / "stamp.json"


def _ledger_generation(settings: Settings) -> int:
    return Ledger(settings).generation


def bm25_is_fresh(settings: Settings | None = None) -> bool:
    """True when the persisted BM25 index was built from the ledger's current state."""
    settings = settings or get_settings()
    try:
        stamp = json.loads(stamp_path(settings).read_text())
    except (OSError, ValueError):
        return False
    return stamp.get("generation") == _ledger_generation(settings)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _bm25_text(rec: dict) -> str:
    # Title and section carry the API names and headings that exact-match queries look for.
    return f"{rec.get('title', '')}\n{rec.get('section', '')}\n{rec.get('text', '')}"


def rebuild_bm25(settings: Settings | None = None) -> int:
    """Rebuild the BM25 index from every point in the store; returns the number indexed."""
    import bm25s

    settings = settings or get_settings()
    store = Store(settings)
    records = [record(p.id, p.payload or {}) for p in store.scroll_all()]
    target = _bm25_dir(settings)
    generation = _ledger_generation(settings)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True, exist_ok=True)
    if records:
        tokens = bm25s.tokenize([_bm25_text(r) for r in records], stopwords="en", stemmer=_stemmer(), show_progress=False)
        index = bm25s.BM25()
        index.index(tokens, show_progress=False)
        index.save(str(tmp), corpus=records, show_progress=False)
    (tmp / "stamp.json").write_text(json.dumps({"generation": generation, "count": len(records)}))
    # Swap directories so a reader never sees a half-written index.
    old = target.with_name(f"{target.name}.{os.getpid()}.old")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
    return len(records)


class BM25Index:
    """A loaded BM25 index plus per-feed masks."""

    def __init__(self, settings: Settings):
        import bm25s

        folder = _bm25_dir(settings)
        self.stamp_mtime = stamp_path(settings).stat().st_mtime_ns
        stamp = json.loads(stamp_path(settings).read_text())
        self.index = None
        self.corpus: list[dict] = []
        if stamp.get("count", 0):
            self.index = bm25s.BM25.load(str(folder), load_corpus=True, show_progress=False)
            self.corpus = list(self.index.corpus)
        self.by_id = {rec["id"]: rec for rec in self.corpus}
        feeds = np.array([rec.get("feed", "") for rec in self.corpus])
        self.masks = {feed: (feeds == feed).astype(np.float32) for feed in FEEDS}

    def search(self, query: str, k: int, feed: str | None) -> list[tuple[dict, float]]:
        import bm25s

        if self.index is None or not self.corpus:
            return []
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=_stemmer(), show_progress=False)
        if not tokens.vocab:
            return []
        mask = self.masks.get(feed) if feed else None
        if mask is not None and not mask.any():
            return []
        k = min(k, len(self.corpus))
        docs, scores = self.index.retrieve(tokens, k=k, show_progress=False, weight_mask=mask, n_threads=1)
        out = []
        for doc, score in zip(docs[0], scores[0]):
            if score <= 0:
                continue
            rec = doc if isinstance(doc, dict) else self.corpus[int(doc)]
            out.append((rec, float(score)))
        return out
