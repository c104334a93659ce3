"""Ingestion: Documents → repair → nodes → vectors in Qdrant, incrementally and safely.

Two llama-index ``IngestionPipeline``s do the work: one parses (text repair, then the
Markdown-aware node parser), one embeds and writes to the ``QdrantVectorStore``. Around them
sits a small ledger (``state_dir/ingest/<collection>.json``) that maps each *source* (a file,
a paper note, an API object) to the hash of its content and the ids of its nodes.

Why our own ledger instead of llama-index's docstore with ``UPSERTS_AND_DELETE``: that
strategy deletes every document missing from the current run, across the whole store, so
ingesting one user folder would wipe the roadmap; and it persists only when the run ends, so
a killed run loses its bookkeeping. The ledger instead

* scopes deletions: a run owns one *scope* (a feed, one ``--docs`` package, one user path) and
  only removes sources of that scope that have disappeared;
* is written after every batch, and only after that batch's vectors are in Qdrant. Node ids
  are deterministic (source, position, text), so a killed run leaves at worst vectors the
  ledger does not know yet; the next run rewrites them under the same ids and records them;
* re-embeds a source only when its content hash (or the chunking/model settings) changed,
  writing the new nodes before deleting the stale ones, so a source never vanishes mid-run.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.schema import BaseNode, Document, TransformComponent
from pydantic import BaseModel, Field

from knowledge.bm25 import bm25_is_fresh, rebuild_bm25
from knowledge.embed import EXPORT_VERSION, TutorEmbedding
from knowledge.ledger import Ledger
from knowledge.parse import TutorNodeParser
from knowledge.store import Store
from knowledge.text import repair
from tutor.config import FEEDS, Settings, get_settings
from tutor.errors import TutorError

# Called as progress(done=..., total=..., stage=...) with keywords: done/total count chunks,
# stage names the step ("embedding papers"). The CLI draws a bar, the UI forwards to gr.Progress.
Progress = Callable[..., None]


class RepairText(TransformComponent):
    """Pipeline step: ftfy repair of every document, whichever reader made it."""

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> Sequence[BaseNode]:
        for node in nodes:
            fixed = repair(node.get_content())
            if fixed != node.get_content():
                node.set_content(fixed)
            for key in ("title", "section"):
                if isinstance(node.metadata.get(key), str):
                    node.metadata[key] = repair(node.metadata[key])
        return nodes


class IngestReport(BaseModel):
    feed: str = Field(description="Feed that was ingested.")
    scope: str = Field(description="What this run owned (deletions never leave it).")
    added: int = Field(0, description="Sources new to the store.")
    updated: int = Field(0, description="Sources whose content changed and were re-embedded.")
    unchanged: int = Field(0, description="Sources skipped because their content hash matched.")
    removed: int = Field(0, description="Sources deleted because they disappeared from the scope.")
    chunks: int = Field(0, description="Chunks embedded and written in this run.")
    seconds: float = Field(0.0, description="Wall time of the run.")
    problems: list[str] = Field(default_factory=list, description="One line per file that was skipped.")

    def summary(self) -> str:
        return (
            f"{self.feed} ({self.scope}): {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed; {self.chunks} chunks embedded in {self.seconds:.1f}s"
        )


def fingerprint(settings: Settings) -> str:
    """Settings that change the nodes or vectors; when they change, everything is re-embedded."""
    export = EXPORT_VERSION if settings.embed_backend == "onnx-int8" else ""
    return f"{settings.embed_model}|{settings.embed_backend}{export}|{settings.chunk_size}|{settings.chunk_overlap}|parser-2"


def content_hash(docs: Sequence[Document]) -> str:
    digest = hashlib.sha256()
    for doc in sorted(docs, key=lambda d: d.doc_id):
        meta = json.dumps(doc.metadata, sort_keys=True, default=str)
        digest.update(f"{doc.doc_id}\x00{meta}\x00{doc.text}\x01".encode())
    return digest.hexdigest()


def _tqdm_progress(desc: str) -> tuple[Progress, Callable[[], None]]:
    from tqdm.auto import tqdm

    bar = tqdm(total=0, desc=desc, unit="chunk", dynamic_ncols=True)

    def update(done: int, total: int, stage: str = "") -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close


def ingest_documents(
    documents: Sequence[Document],
    feed: str,
    scope: str | None = None,
    *,
    settings: Settings | None = None,
    progress: Progress | None = None,
    show_progress: bool = True,
    problems: Sequence[str] = (),
    batch_chunks: int | None = None,
    refresh_bm25: bool = True,
) -> IngestReport:
    """Bring the store in line with ``documents`` for ``scope`` (default: the whole feed).

    Sources of ``scope`` not among ``documents`` are removed; changed ones re-embedded;
    unchanged ones skipped. Safe to interrupt at any point and run again.
    """
    settings = settings or get_settings()
    if feed not in FEEDS:
        raise TutorError(f"unknown feed '{feed}' (use one of: {', '.join(FEEDS)})")
    scope = scope or f"feed:{feed}"
    started = time.perf_counter()
    report = IngestReport(feed=feed, scope=scope, problems=list(problems))
    store = Store(settings)
    ledger = Ledger(settings)
    fp = fingerprint(settings)
    if ledger.data.get("fingerprint") != fp:
        # Chunking or model changed: every ledger entry is stale (ids stay deterministic, so
        # re-embedding overwrites in place and removes leftovers).
        for entry in ledger.sources.values():
            entry["hash"] = ""
        ledger.data["fingerprint"] = fp

    by_source: dict[str, list[Document]] = {}
    for doc in documents:
        by_source.setdefault(doc.metadata["source"], []).append(doc)

    # 1. Sources of this scope that are gone.
    gone = [s for s, e in ledger.sources.items() if e.get("scope") == scope and s not in by_source]
    for source in gone:
        store.delete_ids(ledger.sources[source].get("nodes", []))
        del ledger.sources[source]
        report.removed += 1
    if gone:
        ledger.save()

    # 2. What changed.
    todo: list[tuple[str, str, list[Document]]] = []
    for source, docs in by_source.items():
        digest = content_hash(docs)
        entry = ledger.sources.get(source)
        if entry and entry.get("hash") == digest:
            report.unchanged += 1
            if entry.get("scope") != scope and entry.get("feed") == feed:
                entry["scope"] = scope
            continue
        todo.append((source, digest, docs))

    if todo:
        _embed_and_write(todo, feed, scope, settings, store, ledger, report, progress, show_progress, batch_chunks)
    else:
        ledger.save()
    if refresh_bm25 and (todo or gone or not bm25_is_fresh(settings)):
        rebuild_bm25(settings)
    report.seconds = time.perf_counter() - started
    return report


def _embed_and_write(todo, feed, scope, settings, store, ledger, report, progress, show_progress, batch_chunks) -> None:
    embedding = TutorEmbedding(settings)
    parser = IngestionPipeline(transformations=[RepairText(), TutorNodeParser()], disable_cache=True)
    writer = IngestionPipeline(transformations=[embedding], vector_store=store.vector_store(), disable_cache=True)
    store.ensure(embedding.dim)

    parsed: list[tuple[str, str, list[BaseNode]]] = []
    for source, digest, docs in todo:
        nodes = parser.run(documents=list(docs))
        parsed.append((source, digest, nodes))
    total = sum(len(nodes) for _, _, nodes in parsed)
    close = None
    if progress is None and show_progress:
        progress, close = _tqdm_progress(f"embedding {feed}")
    batch_chunks = batch_chunks or max(settings.embed_batch_size * 4, 64)
    done = 0
    try:
        batch: list[tuple[str, str, list[BaseNode]]] = []
        size = 0
        for item in parsed:
            batch.append(item)
            size += len(item[2])
            if size >= batch_chunks:
                done = _write_batch(batch, feed, scope, writer, store, ledger, report, done)
                if progress:
                    progress(done=done, total=total, stage=f"embedding {feed}")
                batch, size = [], 0
        if batch:
            done = _write_batch(batch, feed, scope, writer, store, ledger, report, done)
            if progress:
                progress(done=done, total=total, stage=f"embedding {feed}")
    finally:
        if close:
            close()


def _write_batch(batch, feed, scope, writer, store, ledger, report, done) -> int:
    nodes = [node for _, _, source_nodes in batch for node in source_nodes]
    if nodes:
        writer.run(nodes=nodes)
    # Vectors are in; now drop each source's stale nodes and record it.
    for source, digest, source_nodes in batch:
        new_ids = [n.node_id for n in source_nodes]
        old = ledger.sources.get(source)
        if old:
            keep = set(new_ids)
            store.delete_ids([i for i in old.get("nodes", []) if i not in keep])
            report.updated += 1
        else:
            report.added += 1
        ledger.sources[source] = {"hash": digest, "feed": feed, "scope": scope, "nodes": new_ids}
    ledger.save()
    report.chunks += len(nodes)
    return done + len(nodes)


def prune_missing_user_files(settings: Settings | None = None) -> int:
    """Remove user-feed sources whose file no longer exists (run on every refresh)."""
    settings = settings or get_settings()
    ledger = Ledger(settings)
    store = Store(settings)
    gone = [
        s for s, e in ledger.sources.items() if e.get("feed") == "user" and s.startswith("user:") and not Path(s[5:]).exists()
    ]
    for source in gone:
        store.delete_ids(ledger.sources[source].get("nodes", []))
        del ledger.sources[source]
    if gone:
        ledger.save()
        rebuild_bm25(settings)
    return len(gone)


def ingest_paths(paths, *, settings: Settings | None = None, progress: Progress | None = None, show_progress: bool = True) -> list[IngestReport]:
    """Ingest user files/folders into the "user" feed; each path is its own scope."""
    from knowledge.readers.files import load_paths

    settings = settings or get_settings()
    reports = []
    for path in paths:
        path = Path(path).expanduser()
        docs, problems = load_paths([path], feed="user")
        reports.append(
            ingest_documents(
                docs,
                "user",
                scope=f"user:{path.resolve()}",
                settings=settings,
                progress=progress,
                show_progress=show_progress,
                problems=problems,
            )
        )
    return reports


def rebuild(settings: Settings | None = None) -> None:
    """Drop the collection, the ledger and the BM25 index; the next ingest starts from empty."""
    settings = settings or get_settings()
    Store(settings).drop()
    Ledger(settings).reset()
    rebuild_bm25(settings)


def stored_sources(settings: Settings | None = None, feed: str | None = None) -> dict[str, dict]:
    """The ledger's view of the store: source → {hash, feed, scope, nodes}."""
    ledger = Ledger(settings or get_settings())
    return {s: e for s, e in ledger.sources.items() if feed is None or e.get("feed") == feed}
