"""The default corpus: the user's roadmap, the shipped paper notes, and core API docs.

``ensure_default_corpus()`` is what the faces (CLI, page, evals) call before the first search:
on a fresh data dir it builds all three feeds (with progress), afterwards it only checks a
marker and returns. Retrieval itself never builds anything.
``build_default_corpus()`` is what ``tutor ingest`` without arguments runs: a full refresh,
incremental by content hash, so an unchanged corpus costs seconds.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from knowledge.bm25 import rebuild_bm25
from knowledge.ledger import Ledger
from knowledge.pipeline import (
    IngestReport,
    Progress,
    fingerprint,
    ingest_documents,
    prune_missing_user_files,
)
from tutor.config import Settings, get_settings
from tutor.errors import TutorError

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
ROADMAP_FILE = CORPUS_DIR / "roadmap" / "deep_learning_roadmap.md"
ROADMAP_SOURCE = "roadmap:deep_learning_roadmap.md"
_BUILD_LOCK = threading.Lock()

def _marker_key(settings: Settings) -> str:
    # The pipeline's fingerprint is in the key, so a data dir built by an older parser (no
    # navigation flags) or another model is brought up to date on first use; unchanged text
    # takes its vectors from the shipped cache, so that costs under a minute.
    return "|".join(["default-corpus-1", fingerprint(settings), *settings.docs_packages])


def _marker_path(settings: Settings) -> Path:
    return settings.state_dir / "ingest" / f"{settings.collection}.default.json"


def is_built(settings: Settings | None = None) -> bool:
    """True when the default corpus was completely built for the current docs packages."""
    settings = settings or get_settings()
    try:
        marker = json.loads(_marker_path(settings).read_text())
    except (OSError, ValueError):
        return False
    return marker.get("key") == _marker_key(settings) and bool(Ledger(settings).sources)


def roadmap_documents():
    from knowledge.readers.files import load_file

    return load_file(ROADMAP_FILE, feed="roadmap", source=ROADMAP_SOURCE)


def paper_documents() -> tuple[list, list[str]]:
    from knowledge.readers.papers import load_paper_notes_with_problems

    return load_paper_notes_with_problems()


def docs_documents(package: str, progress: Callable[[int, int], None] | None = None) -> list:
    from knowledge.readers.api_docs import harvest

    return harvest(package, progress=progress)


def ingest_docs_package(
    package: str, *, settings: Settings | None = None, progress: Progress | None = None, show_progress: bool = True
) -> IngestReport:
    """Harvest one installed package's API docs into the "docs" feed (its own scope)."""
    settings = settings or get_settings()
    docs = docs_documents(package)
    if not docs:
        raise TutorError(f"found no documented public objects in '{package}'")
    return ingest_documents(
        docs, "docs", scope=f"docs:{package}", settings=settings, progress=progress, show_progress=show_progress
    )


def build_default_corpus(
    settings: Settings | None = None,
    progress: Progress | None = None,
    show_progress: bool = True,
) -> list[IngestReport]:
    """Build or refresh roadmap + papers + core docs. Safe to interrupt and rerun."""
    settings = settings or get_settings()
    started = time.perf_counter()
    reports: list[IngestReport] = []

    def tell(name: str) -> None:
        if progress:
            progress(done=0, total=None, stage=name)

    def harvest_progress(package: str):
        if progress is None:
            return None
        return lambda done, total: progress(done=done, total=total, stage=f"reading docs {package}")

    common = dict(settings=settings, progress=progress, show_progress=show_progress, refresh_bm25=False)
    tell("reading roadmap")
    reports.append(ingest_documents(roadmap_documents(), "roadmap", **common))
    tell("reading papers")
    papers, problems = paper_documents()
    reports.append(ingest_documents(papers, "papers", problems=problems, **common))
    for package in settings.docs_packages:
        try:
            docs = docs_documents(package, progress=harvest_progress(package))
        except TutorError as exc:
            # A core package missing from this install should not block the rest of the corpus.
            reports.append(IngestReport(feed="docs", scope=f"docs:{package}", problems=[str(exc)]))
            continue
        reports.append(ingest_documents(docs, "docs", scope=f"docs:{package}", **common))
    prune_missing_user_files(settings)
    rebuild_bm25(settings)
    marker = {"key": _marker_key(settings), "seconds": round(time.perf_counter() - started, 1)}
    path = _marker_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(marker))
    return reports


def ensure_default_corpus(
    settings: Settings | None = None, progress: Progress | None = None, show_progress: bool = True
) -> list[IngestReport] | None:
    """Build the default corpus if this data dir has never had it; returns the reports or None."""
    settings = settings or get_settings()
    if is_built(settings):
        return None
    with _BUILD_LOCK:
        if is_built(settings):
            return None
        return build_default_corpus(settings, progress=progress, show_progress=show_progress)
