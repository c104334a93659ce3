"""Qdrant Edge, the embedded engine: the one file that talks to ``qdrant_edge``.

``qdrant-edge-py`` (pinned to 0.9.0 in constraints.txt: the package is in beta and its Python
API still moves) runs Qdrant's own storage engine inside the process: the server's segment
format, a write-ahead log, payload indexes. It has no notion of collections or clients, only
*shards* (one folder each), so this module gives it the small, qdrant-client-shaped surface
the tutor's ``Store`` needs: one shard per collection under one root folder, feed/source
keyword indexes created with the shard, and results as plain objects with ``id`` (a string
for UUIDs, as qdrant-client returns them), ``score``, ``payload`` and ``vector``.

One process owns the root folder. Edge locks each shard's WAL on its own, but only once the
shard is opened, and its error ("Can't init WAL: WouldBlock") names nobody; we take an
``flock`` on ``<root>/.lock`` when the client is made and write our pid beside it, so a
second process fails at once with a sentence that names the holder. The kernel drops an
``flock`` when its process dies, even by ``kill -9``, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

PID_FILE = "tutor.pid"
INDEXED_FIELDS = ("feed", "source")


class EdgeLockedError(RuntimeError):
    """Another process holds the root folder; ``pid`` is what it wrote there (or "unknown")."""

    def __init__(self, path: Path, pid: str):
        super().__init__(f"{path} is locked by pid {pid}")
        self.path, self.pid = path, pid


class Hit:
    """One point as the Store hands it on (qdrant-client's ScoredPoint/Record have the same fields)."""

    __slots__ = ("id", "payload", "score", "vector")

    def __init__(self, point_id, score=None, payload=None, vector=None):
        # qdrant-client returns UUID ids as strings; Edge as uuid.UUID. The retriever and the
        # ledger key everything by string, so normalise here once.
        self.id = str(point_id) if isinstance(point_id, uuid.UUID) else point_id
        self.score = score
        self.payload = payload
        self.vector = vector

    def __repr__(self) -> str:
        return f"Hit(id={self.id!r}, score={self.score!r})"


def _point_id(value: Any):
    """Edge takes ints and UUIDs; node ids arrive as UUID strings."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    return uuid.UUID(str(value))


def match_filter(key: str, value: Any) -> qe.Filter:
    return qe.Filter(must=[qe.FieldCondition(key, match=qe.MatchValue(value))])


class EdgeClient:
    """Every collection of one embedded store: ``<root>/<collection>/`` is an Edge shard."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.root / ".lock", "a+")  # noqa: SIM115 (held for the client's life)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            try:
                pid = (self.root / PID_FILE).read_text().strip() or "unknown"
            except OSError:
                pid = "unknown"
            raise EdgeLockedError(self.root, pid) from None
        try:
            (self.root / PID_FILE).write_text(str(os.getpid()))
        except OSError:
            pass
        self._shards: dict[str, qe.EdgeShard] = {}
        self._guard = threading.RLock()
        self.closed = False

    # -- shards -------------------------------------------------------------------------
    def _path(self, name: str) -> Path:
        return self.root / name

    def collection_exists(self, name: str) -> bool:
        if self.closed:
            raise RuntimeError(f"the Edge store at {self.root} was closed")
        return name in self._shards or (self._path(name) / "edge_config.json").exists()

    def _shard(self, name: str) -> qe.EdgeShard | None:
        with self._guard:
            if self.closed:
                # The lock is released: opening a shard now could race another process.
                raise RuntimeError(f"the Edge store at {self.root} was closed")
            shard = self._shards.get(name)
            if shard is None and self.collection_exists(name):
                # Loading replays the WAL: whatever an earlier process wrote before it died is back.
                shard = self._shards[name] = qe.EdgeShard.load(str(self._path(name)))
            return shard

    def vector_size(self, name: str) -> int | None:
        shard = self._shard(name)
        if shard is None:
            return None
        # The shard's config on disk is the source of truth for its vector width.
        import json

        config = json.loads((self._path(name) / "edge_config.json").read_text())
        vectors = config.get("vectors") or {}
        params = vectors.get("") if isinstance(vectors, dict) else None
        return (params or {}).get("size")

    def create_collection(self, name: str, dim: int) -> None:
        with self._guard:
            path = self._path(name)
            if path.exists() and not (path / "edge_config.json").exists():
                shutil.rmtree(path)  # a folder left by a create that died half-way
            # DOT: every encoder returns unit vectors, so the dot product is the cosine without
            # the per-query normalisation COSINE would add.
            config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Dot))
            shard = qe.EdgeShard.create(str(path), config)
            for field in INDEXED_FIELDS:
                # Keyword indexes make feed/source filters native: the planner reads the index
                # instead of checking each point's payload.
                shard.update(qe.UpdateOperation.create_field_index(field, qe.PayloadSchemaType.Keyword))
            self._shards[name] = shard

    def import_collection(self, name: str, dim: int, batches: Iterable[tuple[list, list, list]]) -> int:
        """Build collection ``name`` from ``(ids, vectors, payloads)`` batches, all or nothing.

        The shard is written under a hidden folder and renamed into place only when every
        batch is in, so an import that is interrupted leaves no half collection behind (the
        next open simply imports again). Returns the number of points written.
        """
        with self._guard:
            tmp = self.root / f".{name}.importing"
            shutil.rmtree(tmp, ignore_errors=True)
            config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Dot))
            shard = qe.EdgeShard.create(str(tmp), config)
            written = 0
            try:
                for field in INDEXED_FIELDS:
                    shard.update(qe.UpdateOperation.create_field_index(field, qe.PayloadSchemaType.Keyword))
                for ids, vectors, payloads in batches:
                    points = [qe.Point(_point_id(i), list(map(float, v)), p) for i, v, p in zip(ids, vectors, payloads)]
                    if points:
                        shard.update(qe.UpdateOperation.upsert_points(points))
                    written += len(points)
                shard.flush()
            finally:
                shard.close()
            shutil.rmtree(self._path(name), ignore_errors=True)  # only ever a leftover without a shard
            os.replace(tmp, self._path(name))
            return written

    def delete_collection(self, name: str) -> None:
        with self._guard:
            shard = self._shards.pop(name, None)
            if shard is not None:
                shard.close()
            shutil.rmtree(self._path(name), ignore_errors=True)

    # -- writes -------------------------------------------------------------------------
    def upsert(self, name: str, ids: Sequence, vectors, payloads: Sequence[dict] | None = None) -> None:
        shard = self._shard(name)
        if shard is None:
            raise KeyError(name)
        rows = vectors.tolist() if isinstance(vectors, np.ndarray) else [list(map(float, v)) for v in vectors]
        payloads = payloads if payloads is not None else [None] * len(rows)
        points = [qe.Point(_point_id(i), v, p) for i, v, p in zip(ids, rows, payloads, strict=True)]
        if points:
            shard.update(qe.UpdateOperation.upsert_points(points))

    def delete(self, name: str, ids: Iterable) -> None:
        shard = self._shard(name)
        ids = [_point_id(i) for i in ids]
        if shard is not None and ids:
            shard.update(qe.UpdateOperation.delete_points(ids))

    def delete_where(self, name: str, key: str, value: Any) -> None:
        shard = self._shard(name)
        if shard is not None:
            shard.update(qe.UpdateOperation.delete_points_by_filter(match_filter(key, value)))

    def flush(self) -> None:
        with self._guard:
            for shard in self._shards.values():
                shard.flush()

    # -- reads --------------------------------------------------------------------------
    def count(self, name: str, where: qe.Filter | None = None) -> int:
        shard = self._shard(name)
        return 0 if shard is None else shard.count(qe.CountRequest(exact=True, filter=where))

    def scroll(self, name: str, limit: int, offset=None, with_payload: bool = True, with_vectors: bool = False):
        shard = self._shard(name)
        if shard is None:
            return [], None
        records, nxt = shard.scroll(
            qe.ScrollRequest(offset=offset, limit=limit, with_payload=with_payload, with_vector=with_vectors)
        )
        return [Hit(r.id, None, r.payload, r.vector if with_vectors else None) for r in records], nxt

    def query(self, name: str, vector, limit: int, where: qe.Filter | None = None, with_payload: bool = True):
        shard = self._shard(name)
        if shard is None:
            return []
        request = qe.QueryRequest(
            limit=limit, query=qe.Query.Nearest(np.asarray(vector, dtype=np.float32).tolist()),
            filter=where, with_payload=with_payload,
        )
        return [Hit(p.id, p.score, p.payload if with_payload else None) for p in shard.query(request)]

    def retrieve(self, name: str, ids: Sequence, with_vectors: bool = False):
        shard = self._shard(name)
        if shard is None or not ids:
            return []
        records = shard.retrieve([_point_id(i) for i in ids], True, with_vectors)
        return [Hit(r.id, None, r.payload, r.vector if with_vectors else None) for r in records]

    def info(self, name: str):
        shard = self._shard(name)
        return None if shard is None else shard.info()

    def close(self) -> None:
        with self._guard:
            for shard in self._shards.values():
                try:
                    shard.close()
                except Exception:  # noqa: BLE001, S110 (closing at exit: nothing left to tell anyone)
                    pass
            self._shards.clear()
            if not self.closed:
                self.closed = True
                try:
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                finally:
                    self._lock_file.close()
