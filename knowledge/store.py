"""The vector store: Qdrant, embedded under the data dir or a server at ``settings.qdrant_url``.

The same code serves both; only where the client points changes. Embedded Qdrant takes an
exclusive file lock on its folder, so a second process (say the CLI while the UI runs) would
fail deep inside qdrant-client with a bare RuntimeError. We turn that into
``StoreLockedError`` with a sentence that says which process holds it and what to do, and we
keep one client per location per process so every part of one process shares it.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models

from tutor.config import Settings, get_settings
from tutor.errors import StoreLockedError, TutorError

_CLIENTS: dict[tuple, QdrantClient] = {}
_LOCK = threading.Lock()
PID_FILE = "tutor.pid"
DISTANCE = models.Distance.DOT


def _location(settings: Settings) -> tuple:
    if settings.qdrant_url:
        return ("url", settings.qdrant_url, settings.qdrant_api_key or "")
    return ("path", str(settings.qdrant_path))


def client_kwargs(settings: Settings) -> dict[str, Any]:
    """Arguments for ``QdrantClient``: a server when ``qdrant_url`` is set, else the local folder."""
    if settings.qdrant_url:
        return {"url": settings.qdrant_url, "api_key": settings.qdrant_api_key, "timeout": 30}
    return {"path": str(settings.qdrant_path)}


def _holder_pid(path: Path) -> str:
    try:
        return (path / PID_FILE).read_text().strip()
    except OSError:
        return "unknown"


def get_client(settings: Settings | None = None) -> QdrantClient:
    """The process-wide client for the configured location (created on first use)."""
    settings = settings or get_settings()
    key = _location(settings)
    with _LOCK:
        client = _CLIENTS.get(key)
        if client is not None:
            return client
        kwargs = client_kwargs(settings)
        if "path" in kwargs:
            path = Path(kwargs["path"])
            path.mkdir(parents=True, exist_ok=True)
            try:
                client = QdrantClient(**kwargs)
            except RuntimeError as exc:
                if "already accessed by another instance" not in str(exc):
                    raise
                raise StoreLockedError(
                    f"the knowledge base at {path} is in use by another tutor process (pid {_holder_pid(path)}); "
                    "close it, or set TUTOR_QDRANT_URL to a Qdrant server so several processes can share it"
                ) from None
            # Record who holds the lock so the next process can name it in its message.
            try:
                (path / PID_FILE).write_text(str(os.getpid()))
            except OSError:
                pass
        else:
            client = QdrantClient(**kwargs)
        _CLIENTS[key] = client
        return client


def close_clients() -> None:
    """Close every cached client (releases the embedded lock); the next ``get_client`` reopens."""
    with _LOCK:
        for client in _CLIENTS.values():
            try:
                client.close()
            except Exception:
                pass
        _CLIENTS.clear()


# Close embedded clients while the interpreter is still whole; qdrant-client's own __del__
# runs too late at shutdown and prints an ImportError traceback.
atexit.register(close_clients)


class Store:
    """One Qdrant collection holding every feed; nodes are written through llama-index."""

    def __init__(self, settings: Settings | None = None, client: QdrantClient | None = None):
        self.settings = settings or get_settings()
        self.client = client or get_client(self.settings)
        self.collection = self.settings.collection

    # -- llama-index view ---------------------------------------------------------------
    def vector_store(self):
        """A llama-index ``QdrantVectorStore`` over this collection (for IngestionPipeline)."""
        from llama_index.vector_stores.qdrant import QdrantVectorStore

        return QdrantVectorStore(client=self.client, collection_name=self.collection, batch_size=256)

    # -- collection management ----------------------------------------------------------
    def exists(self) -> bool:
        try:
            return self.client.collection_exists(self.collection)
        except Exception as exc:  # a server that is down or refuses us
            raise TutorError(f"cannot reach the Qdrant store ({exc.__class__.__name__}: {exc})") from None

    def ensure(self, dim: int) -> None:
        """Create the collection (cosine, ``dim``-wide) when missing; refuse a size mismatch."""
        if self.exists():
            info = self.client.get_collection(self.collection)
            size = info.config.params.vectors
            size = getattr(size, "size", None)
            if size is not None and size != dim:
                raise TutorError(
                    f"collection '{self.collection}' holds {size}-dim vectors but the embedding model gives {dim}; "
                    "run `tutor ingest --rebuild`"
                )
            return
        # Every encoder returns unit-length vectors, so a dot product is the cosine. DOT rather
        # than COSINE because embedded Qdrant re-normalises every stored vector on each COSINE
        # query (~12 ms per query at 3.5k chunks); a server ranks both the same. Collections
        # made earlier with COSINE keep working, only slower.
        self.client.create_collection(
            self.collection, vectors_config=models.VectorParams(size=dim, distance=DISTANCE)
        )
        if self.settings.qdrant_url:
            # Payload indexes make feed/source filters cheap on a server; local mode ignores them.
            for field in ("feed", "source"):
                self.client.create_payload_index(self.collection, field, models.PayloadSchemaType.KEYWORD)

    def drop(self) -> None:
        if self.exists():
            self.client.delete_collection(self.collection)

    def count(self, feed: str | None = None) -> int:
        if not self.exists():
            return 0
        return self.client.count(self.collection, count_filter=feed_filter(feed), exact=True).count

    def delete_ids(self, ids: list[str]) -> None:
        if ids and self.exists():
            self.client.delete(self.collection, points_selector=models.PointIdsList(points=list(ids)), wait=True)

    def scroll_all(self, with_vectors: bool = False, batch: int = 1024):
        """Yield every point (id, payload[, vector]) of the collection."""
        if not self.exists():
            return
        offset = None
        while True:
            points, offset = self.client.scroll(
                self.collection, limit=batch, offset=offset, with_payload=True, with_vectors=with_vectors
            )
            yield from points
            if offset is None:
                break

    def query(self, vector, top_k: int, feed: str | None = None, with_payload: bool = True):
        """Nearest points by cosine similarity: a list of ``ScoredPoint``.

        ``with_payload=False`` returns ids and scores only (the retriever looks the texts up in
        memory: copying payloads costs embedded Qdrant ~0.15 ms per hit).
        """
        if not self.exists():
            return []
        if self.settings.qdrant_url:
            query = list(map(float, vector))
        else:
            # float32 numpy for embedded Qdrant: a Python list is deep-copied and becomes a
            # float64 array, which makes numpy upcast the whole stored matrix on every query.
            query = np.asarray(vector, dtype=np.float32)
        if feed and not self.settings.qdrant_url:
            hits = self._query_feed_embedded(query, top_k, feed, with_payload)
            if hits is not None:
                return hits
        return self.client.query_points(
            self.collection, query=query, limit=top_k, query_filter=feed_filter(feed), with_payload=with_payload
        ).points

    def _query_feed_embedded(self, query, top_k: int, feed: str, with_payload: bool = True):
        """Feed-filtered search for embedded Qdrant, or None when the filtered query must run.

        Embedded Qdrant checks a payload filter point by point in Python (~0.5 s per query at
        20k points; a server uses its payload index instead). Its search is exact, so the
        filtered top-k are simply the first k points of that feed in the unfiltered ranking:
        take a wider unfiltered ranking (payload reduced to the feed), keep that feed's
        points, and fetch their full payloads. Only a feed too rare to show up in the wider
        ranking falls back to the slow filtered query.
        """
        for limit in (top_k * 4, top_k * 16):
            ranked = self.client.query_points(
                self.collection, query=query, limit=limit, with_payload=models.PayloadSelectorInclude(include=["feed"])
            ).points
            kept = [p for p in ranked if (p.payload or {}).get("feed") == feed][:top_k]
            if len(kept) == top_k or len(ranked) < limit:  # enough, or the whole collection was seen
                if with_payload:
                    full = {str(p.id): p for p in self.retrieve([p.id for p in kept])}
                    for point in kept:
                        point.payload = full[str(point.id)].payload
                return kept
        return None

    def retrieve(self, ids: list[str]):
        if not ids or not self.exists():
            return []
        return self.client.retrieve(self.collection, ids=list(ids), with_payload=True)


def feed_filter(feed: str | None):
    if not feed:
        return None
    return models.Filter(must=[models.FieldCondition(key="feed", match=models.MatchValue(value=feed))])
