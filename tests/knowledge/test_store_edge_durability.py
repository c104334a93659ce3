"""Durability of the embedded Edge store: a real ``kill -9`` in the middle of ``tutor ingest``.

The ingestion ledger records a batch only after its vectors are written, and Edge writes every
update to its WAL before returning, so after a SIGKILL (no cleanup, no flush, no atexit) the
next open replays the WAL: every document the ledger recorded must be in the store, and a
rerun must finish the rest without a single duplicate or orphan point.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from knowledge.store import Store, close_clients
from tests.knowledge.conftest import REPO
from tutor.config import get_settings

DOCS = 300


def _text(i: int) -> str:
    # One chunk each, with a word no other note has, so each one can be searched for.
    body = " ".join(f"point{j} of lesson{i}" for j in range(12))
    return f"Keyword zq{i}x. {body}"


def _notes(folder, n):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"lesson{i:03d}.md").write_text(f"# Lesson {i}\n\n{_text(i)}\n")
    return folder


def _ledger(settings):
    from knowledge.pipeline import stored_sources

    return stored_sources(settings)


@pytest.mark.integration
@pytest.mark.slow
def test_kill_9_during_ingest_then_rerun_keeps_every_document_once(kb_home, tmp_path):
    settings = get_settings()
    folder = _notes(tmp_path / "lessons", DOCS)
    ledger_file = settings.state_dir / "ingest" / f"{settings.collection}.json"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TUTOR_EMBED_BATCH_SIZE": "8"}
    cmd = [sys.executable, "-m", "tutor.cli", "ingest", str(folder)]
    child = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    recorded_at_kill = 0
    deadline = time.time() + 600
    try:
        while time.time() < deadline and child.poll() is None:
            try:
                recorded_at_kill = len(json.loads(ledger_file.read_text())["sources"])
            except (OSError, ValueError, KeyError):
                recorded_at_kill = 0
            if recorded_at_kill >= 64:  # at least one batch is in: kill it mid-run
                os.kill(child.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, f"the ingest was not killed mid-run: {child.stderr.read()[-2000:]}"

    # 1. Right after the kill: everything the ledger promises is in the store (WAL replayed).
    before = _ledger(settings)
    assert 64 <= len(before) < DOCS, "the kill did not land in the middle of the run"
    promised = {i for e in before.values() for i in e["nodes"]}
    store = Store(settings)
    found = {str(p.id) for p in store.retrieve(sorted(promised))}
    assert found == promised
    close_clients()

    # 2. Rerun: it finishes, and every document is there exactly once.
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    after = _ledger(settings)
    assert len(after) == DOCS
    recorded = [i for e in after.values() for i in e["nodes"]]
    stored = [str(p.id) for p in Store(settings).scroll_all()]
    assert len(stored) == len(set(stored)) == len(recorded) == len(set(recorded))
    assert set(stored) == set(recorded)  # no duplicates, no orphans
    assert {s: e["nodes"] for s, e in after.items() if s in before} == {s: e["nodes"] for s, e in before.items()}

    # 3. Every document is searchable by its own keyword, earlier ones included.
    from knowledge.retrieve import get_retriever

    retriever = get_retriever(settings)
    missing = []
    for i in range(DOCS):
        hits = retriever.search(f"zq{i}x", top_k=1, mode="bm25")
        if not hits or not hits[0].source.endswith(f"lesson{i:03d}.md"):
            missing.append(i)
    assert missing == []
    # ...and the dense side: each earlier chunk's stored vector finds that chunk first (the
    # notes differ only in numbers, which MiniLM hardly tells apart, so no text query here).
    store = retriever.store
    for point in store.retrieve(sorted(promised), with_vectors=True):
        top = store.query(point.vector, 1, with_payload=False)
        assert str(top[0].id) == str(point.id)
    close_clients()
