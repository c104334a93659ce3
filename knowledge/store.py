"""The vector store: Qdrant, embedded under the data dir or a server at ``settings.qdrant_url``.

Three engines sit behind one ``Store``:

* ``edge`` (default when no URL is set): Qdrant Edge, Qdrant's own engine in the process
  (``knowledge/edge.py``): segments, WAL, keyword payload indexes on ``feed``/``source``.
* ``local``: qdrant-client's local mode, a pure-Python engine Qdrant offers for prototyping.
  Kept selectable (``TUTOR_STORE_BACKEND=local``) so benchmarks can put the two side by side.
* a server (``TUTOR_QDRANT_URL``): qdrant-client over HTTP; ``tutor kb migrate`` copies an
  embedded knowledge base there.

An embedded store belongs to one process. A second process (say the CLI while the UI runs)
would fail deep inside the engine; we turn that into ``StoreLockedError`` with a sentence that
says which process holds it and what to do, and we keep one client per location per process
so every part of one process shares it.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models

from knowledge.edge import EdgeClient, EdgeLockedError, match_filter
from tutor.config import Settings, get_settings
from tutor.errors import StoreLockedError, TutorError

_CLIENTS: dict[tuple, Any] = {}
_LOCK = threading.Lock()
PID_FILE = "tutor.pid"
DISTANCE = models.Distance.DOT


def _location(settings: Settings) -> tuple:
    if settings.qdrant_url:
        return ("url", settings.qdrant_url, settings.qdrant_api_key or "")
    if settings.store_backend == "edge":
        return ("edge", str(edge_path(settings)))
    return ("path", str(settings.qdrant_path))


def edge_path(settings: Settings) -> Path:
    """Where the Edge engine keeps its shards (one folder per collection)."""
    return settings.qdrant_path / "edge"


def _locked_message(path: Path, pid: str) -> str:
    return (
        f"the knowledge base at {path} is in use by another tutor process (pid {pid}); "
        "close it, or set TUTOR_QDRANT_URL to a Qdrant server so several processes can share it"
    )


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


def get_client(settings: Settings | None = None):
    """The process-wide client for the configured location (created on first use).

    An ``EdgeClient`` for the default embedded store, a ``QdrantClient`` for local mode or a server.
    """
    settings = settings or get_settings()
    key = _location(settings)
    with _LOCK:
        client = _CLIENTS.get(key)
        if client is not None:
            return client
        if key[0] == "edge":
            try:
                client = EdgeClient(edge_path(settings))
            except EdgeLockedError as exc:
                raise StoreLockedError(_locked_message(exc.path, exc.pid)) from None
            _CLIENTS[key] = client
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
                raise StoreLockedError(_locked_message(path, _holder_pid(path))) from None
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
    """Close every cached client (flushes Edge, releases the embedded lock); the next ``get_client`` reopens."""
    with _LOCK:
        for client in _CLIENTS.values():
            try:
                client.close()
            except Exception:
                pass
        _CLIENTS.clear()


# Close embedded clients while the interpreter is still whole; qdrant-client's own __del__
# runs too late at shutdown and prints an ImportError traceback, and Edge flushes its
# segments on close (the WAL already holds every write, so this only shortens the next load).
atexit.register(close_clients)


class Store:
    """One Qdrant collection holding every feed; nodes are written through llama-index."""

    def __init__(self, settings: Settings | None = None, client=None):
        self.settings = settings or get_settings()
        self._client = client if client is not None else get_client(self.settings)
        self._shared = client is None
        self.collection = self.settings.collection
        self.edge = isinstance(self.client, EdgeClient)
        # A server wants JSON lists; qdrant-client's local mode is the only engine left.
        self.remote = not self.edge and bool(getattr(self.client, "init_options", {}).get("url"))
        if self.edge and client is None:
            _import_local_once(self)

    @property
    def client(self):
        """The engine client; a shared Edge client closed by ``close_clients`` is reopened here.

        Long-lived holders (the process-wide retriever) keep a Store across ``close_clients``;
        without this they would keep using a closed engine that no longer holds the lock.
        """
        if self._shared and getattr(self._client, "closed", False):
            self._client = get_client(self.settings)
        return self._client

    @property
    def engine(self) -> str:
        """``edge``, ``local`` or ``server``: which engine answers (for status lines and benchmarks)."""
        return "edge" if self.edge else ("server" if self.remote else "local")

    # -- llama-index view ---------------------------------------------------------------
    def vector_store(self):
        """A llama-index vector store over this collection (for IngestionPipeline and indexes)."""
        if self.edge:
            from knowledge.edge_vector_store import EdgeVectorStore

            return EdgeVectorStore(self)
        from llama_index.vector_stores.qdrant import QdrantVectorStore

        return QdrantVectorStore(client=self.client, collection_name=self.collection, batch_size=256)

    # -- collection management ----------------------------------------------------------
    def exists(self) -> bool:
        if self.edge:
            return self.client.collection_exists(self.collection)
        try:
            return self.client.collection_exists(self.collection)
        except Exception as exc:  # a server that is down or refuses us
            raise TutorError(f"cannot reach the Qdrant store ({exc.__class__.__name__}: {exc})") from None

    def dim(self) -> int | None:
        """Width of the stored vectors, or None when the collection does not exist."""
        if not self.exists():
            return None
        if self.edge:
            return self.client.vector_size(self.collection)
        size = self.client.get_collection(self.collection).config.params.vectors
        return getattr(size, "size", None)

    def ensure(self, dim: int) -> None:
        """Create the collection (``dim``-wide, dot product) when missing; refuse a size mismatch."""
        if self.exists():
            size = self.dim()
            if size is not None and size != dim:
                raise TutorError(
                    f"collection '{self.collection}' holds {size}-dim vectors but the embedding model gives {dim}; "
                    "run `tutor ingest --rebuild`"
                )
            return
        if self.edge:
            self.client.create_collection(self.collection, dim)  # with the feed/source keyword indexes
            return
        # Every encoder returns unit-length vectors, so a dot product is the cosine. DOT rather
        # than COSINE because embedded Qdrant re-normalises every stored vector on each COSINE
        # query (~12 ms per query at 3.5k chunks); a server ranks both the same. Collections
        # made earlier with COSINE keep working, only slower.
        self.client.create_collection(
            self.collection, vectors_config=models.VectorParams(size=dim, distance=DISTANCE)
        )
        if self.remote:
            # Payload indexes make feed/source filters cheap on a server; local mode ignores them.
            for field in ("feed", "source"):
                self.client.create_payload_index(self.collection, field, models.PayloadSchemaType.KEYWORD)

    def drop(self) -> None:
        if self.exists():
            self.client.delete_collection(self.collection)

    def count(self, feed: str | None = None) -> int:
        if not self.exists():
            return 0
        if self.edge:
            return self.client.count(self.collection, match_filter("feed", feed) if feed else None)
        return self.client.count(self.collection, count_filter=feed_filter(feed), exact=True).count

    # -- writes -------------------------------------------------------------------------
    def upsert(self, ids: list, vectors, payloads: list[dict] | None = None, batch: int = 512) -> None:
        """Write points (create or overwrite by id); the collection must exist (``ensure``)."""
        if self.edge:
            self.client.upsert(self.collection, list(ids), vectors, payloads)
            return
        self.client.upload_collection(
            self.collection,
            vectors=np.asarray(vectors, dtype=np.float32),
            payload=payloads,
            ids=list(ids),
            batch_size=batch,
            wait=True,
        )

    def delete_ids(self, ids: list[str]) -> None:
        if ids and self.exists():
            if self.edge:
                self.client.delete(self.collection, ids)
                return
            self.client.delete(self.collection, points_selector=models.PointIdsList(points=list(ids)), wait=True)

    def delete_where(self, key: str, value) -> None:
        """Delete every point whose payload ``key`` equals ``value`` (llama-index's delete by doc id)."""
        if not self.exists():
            return
        if self.edge:
            self.client.delete_where(self.collection, key, value)
            return
        condition = models.FieldCondition(key=key, match=models.MatchValue(value=value))
        self.client.delete(self.collection, points_selector=models.Filter(must=[condition]), wait=True)

    # -- reads --------------------------------------------------------------------------
    def scroll_all(self, with_vectors: bool = False, batch: int = 1024):
        """Yield every point (id, payload[, vector]) of the collection."""
        yield from (p for page, _ in self.scroll_pages(with_vectors, batch) for p in page)

    def scroll_pages(self, with_vectors: bool = False, batch: int = 1024, offset=None):
        """Yield ``(points, next_offset)`` pages; ``offset`` resumes where a page left off."""
        if not self.exists():
            return
        while True:
            if self.edge:
                points, offset = self.client.scroll(self.collection, batch, offset, with_vectors=with_vectors)
            else:
                points, offset = self.client.scroll(
                    self.collection, limit=batch, offset=offset, with_payload=True, with_vectors=with_vectors
                )
            yield points, offset
            if offset is None:
                break

    def query(self, vector, top_k: int, feed: str | None = None, with_payload: bool = True):
        """Nearest points by cosine similarity: objects with ``id``, ``score`` and ``payload``.

        ``with_payload=False`` returns ids and scores only (the retriever looks the texts up in
        memory: copying payloads costs the embedded engines ~0.15 ms per hit).
        """
        if not self.exists():
            return []
        if self.edge:
            # Edge filters through its keyword index on `feed`, inside the search itself, so a
            # filtered query is as fast as an unfiltered one (benchmarks/store.py measures it).
            where = match_filter("feed", feed) if feed else None
            return self.client.query(self.collection, vector, top_k, where, with_payload)
        if self.remote:
            query = list(map(float, vector))
        else:
            # float32 numpy for local mode: a Python list is deep-copied and becomes a float64
            # array, which makes numpy upcast the whole stored matrix on every query.
            query = np.asarray(vector, dtype=np.float32)
        if feed and not self.remote:
            hits = self._query_feed_local(query, top_k, feed, with_payload)
            if hits is not None:
                return hits
        return self.client.query_points(
            self.collection, query=query, limit=top_k, query_filter=feed_filter(feed), with_payload=with_payload
        ).points

    def _query_feed_local(self, query, top_k: int, feed: str, with_payload: bool = True):
        """Feed-filtered search for qdrant-client's local mode, or None when the filtered query must run.

        Local mode checks a payload filter point by point in Python (~0.5 s per query at 20k
        points; Edge and a server use their payload index instead). Its search is exact, so
        the filtered top-k are simply the first k points of that feed in the unfiltered
        ranking: take a wider unfiltered ranking (payload reduced to the feed), keep that
        feed's points, and fetch their full payloads. Only a feed too rare to show up in the
        wider ranking falls back to the slow filtered query.
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

    def retrieve(self, ids: list[str], with_vectors: bool = False):
        if not ids or not self.exists():
            return []
        if self.edge:
            return self.client.retrieve(self.collection, list(ids), with_vectors)
        return self.client.retrieve(self.collection, ids=list(ids), with_payload=True, with_vectors=with_vectors)


def feed_filter(feed: str | None):
    """The qdrant-client filter for one feed (local mode and servers)."""
    if not feed:
        return None
    return models.Filter(must=[models.FieldCondition(key="feed", match=models.MatchValue(value=feed))])


# --------------------------------------------------------------------------- copying
def copy_batches(src: Store, batch: int = 256, offset=None):
    """``(ids, vectors, payloads, next_offset)`` pages of every point of ``src`` (vectors included)."""
    for points, nxt in src.scroll_pages(with_vectors=True, batch=batch, offset=offset):
        vectors = [p.vector.get("", next(iter(p.vector.values()))) if isinstance(p.vector, dict) else p.vector for p in points]
        yield [str(p.id) for p in points], vectors, [p.payload or {} for p in points], nxt


def _import_local_once(store: Store) -> None:
    """First open of Edge beside a knowledge base written by qdrant-client's local mode: bring it over.

    Until Edge became the default, the embedded store was local mode under ``qdrant_path``.
    The ingestion ledger does not know which engine holds the vectors, so without this a
    user who upgrades would have a ledger that says "all ingested" over an empty Edge store.
    The old folder is only read, never changed; ``TUTOR_STORE_BACKEND=local`` still opens it.
    """
    settings = store.settings
    old = settings.qdrant_path / "collection" / store.collection
    # Checked once per collection: after `tutor ingest --rebuild` drops the Edge collection,
    # the old local-mode points must not come back.
    marker = store.client.root / f".{store.collection}.local-checked"
    if marker.exists():
        return
    if store.client.collection_exists(store.collection) or not old.exists():
        marker.touch()
        return
    local = Store(settings, client=get_client(settings.model_copy(update={"store_backend": "local"})))
    try:
        dim = local.dim()
        if dim:
            import logging

            total = local.count()
            logging.getLogger(__name__).info("importing %d points from the local-mode store at %s into Qdrant Edge", total, old)
            pages = ((ids, vectors, payloads) for ids, vectors, payloads, _ in copy_batches(local, batch=512))
            store.client.import_collection(store.collection, dim, pages)
        marker.touch()
    finally:
        key = _location(settings.model_copy(update={"store_backend": "local"}))
        with _LOCK:
            client = _CLIENTS.pop(key, None)
        if client is not None:
            client.close()
