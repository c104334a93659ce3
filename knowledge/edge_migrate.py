"""``tutor kb migrate --to URL``: copy the embedded knowledge base into a Qdrant server.

A learner who outgrows one machine (several processes sharing a knowledge base, more chunks
than one laptop holds) moves to a Qdrant server or cluster and keeps everything. Point ids,
vectors and payloads are copied verbatim, so the ingestion ledger and the BM25 index (both
keyed by point id) stay valid: after the copy, setting ``TUTOR_QDRANT_URL`` is all it takes.

* The server is checked first, before the embedded store is even opened: an unreachable or
  refusing server costs one line and leaves the embedded store exactly as it was.
* The embedded store is only read.
* Batched, with a progress callback, and resumable: each batch asks the server which of its
  ids it already holds and sends only the others, so a run cut short (Ctrl-C, a network
  drop) picks up where it stopped. Ids are deterministic per (source, position, text), so an
  id the server already has carries the same content.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel, Field
from qdrant_client import QdrantClient

from knowledge.store import Store, copy_batches
from tutor.config import Settings, get_settings
from tutor.errors import TutorError

Progress = Callable[..., None]


class MigrateReport(BaseModel):
    url: str = Field(description="Server the knowledge base was copied to.")
    collection: str = Field(description="Collection name, the same on both sides.")
    source_engine: str = Field(description="Embedded engine that was read (edge or local).")
    total: int = Field(0, description="Points in the embedded store.")
    copied: int = Field(0, description="Points sent in this run.")
    already_there: int = Field(0, description="Points the server held already (an earlier, interrupted run).")
    server_count: int = Field(0, description="Points in the server's collection afterwards.")
    seconds: float = Field(0.0, description="Wall time.")

    def summary(self) -> str:
        return (
            f"copied {self.copied} chunks to {self.url} (collection '{self.collection}'); {self.already_there} were "
            f"already there; the server now holds {self.server_count}. Set TUTOR_QDRANT_URL={self.url} to use it."
        )


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return f"{exc.__class__.__name__}: {text[:160]}" if text else exc.__class__.__name__


def server_store(url: str, api_key: str | None, settings: Settings, client: QdrantClient | None = None) -> Store:
    """A Store on the server at ``url``, checked to answer (else one-line ``TutorError``)."""
    target = settings.model_copy(update={"qdrant_url": url, "qdrant_api_key": api_key})
    if client is None:
        if not url.startswith(("http://", "https://")):
            raise TutorError(f"--to must be a Qdrant server URL such as http://localhost:6333, not '{url}'")
        import warnings

        with warnings.catch_warnings():
            # qdrant-client warns when it cannot read the server version; the check below says it better.
            warnings.simplefilter("ignore")
            client = QdrantClient(url=url, api_key=api_key, timeout=30, check_compatibility=False)
    store = Store(target, client=client)
    try:
        store.client.get_collections()
    except Exception as exc:  # noqa: BLE001 (connection refused, DNS, TLS, 401/403 ...: all one line)
        raise TutorError(
            f"cannot use the Qdrant server at {url} ({_short(exc)}); the embedded knowledge base was not changed"
        ) from None
    return store


def migrate(
    url: str,
    *,
    api_key: str | None = None,
    settings: Settings | None = None,
    batch: int = 256,
    progress: Progress | None = None,
    client: QdrantClient | None = None,
) -> MigrateReport:
    """Copy every point of the embedded collection to the server at ``url`` (see module doc).

    ``client`` replaces the HTTP client (the tests pass qdrant-client's local mode, which
    speaks the same API, because no server can run on the test machines).
    """
    settings = settings or get_settings()
    started = time.perf_counter()
    dst = server_store(url, api_key, settings, client)  # first: a bad server must not touch anything
    src = Store(settings.model_copy(update={"qdrant_url": None}))
    dim = src.dim()
    total = src.count()
    if not dim or not total:
        raise TutorError("the embedded knowledge base is empty; run `tutor ingest` first, then migrate")
    try:
        dst.ensure(dim)  # creates the collection with feed/source payload indexes, or checks its width
    except TutorError:
        raise
    except Exception as exc:  # noqa: BLE001 (whatever the server says, the user gets one line)
        raise TutorError(f"the Qdrant server at {url} refused the collection ({_short(exc)})") from None
    report = MigrateReport(url=url, collection=settings.collection, source_engine=src.engine, total=total)
    done = 0
    for ids, vectors, payloads, _ in copy_batches(src, batch=batch):
        try:
            present = {str(p.id) for p in dst.client.retrieve(dst.collection, ids=ids, with_payload=False)}
            keep = [i for i, pid in enumerate(ids) if pid not in present]
            if keep:
                dst.upsert([ids[i] for i in keep], [vectors[i] for i in keep], [payloads[i] for i in keep], batch=batch)
        except TutorError:
            raise
        except Exception as exc:  # noqa: BLE001 (a network drop mid-copy: say how to resume)
            raise TutorError(
                f"the copy to {url} stopped after {done} of {total} chunks ({_short(exc)}); "
                "run the same command again to resume"
            ) from None
        report.copied += len(keep)
        report.already_there += len(ids) - len(keep)
        done += len(ids)
        if progress:
            progress(done=done, total=total, stage="copying to the server")
    report.server_count = dst.count()
    report.seconds = round(time.perf_counter() - started, 2)
    return report
