import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from knowledge.pipeline import Ledger, ingest_documents, ingest_paths, prune_missing_user_files, rebuild
from knowledge.readers.files import load_paths
from knowledge.store import Store, close_clients
from tests.knowledge.conftest import REPO, ROADMAP
from tutor.config import get_settings


def _notes(folder, n, words=60):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body = " ".join(f"topic{i} detail{j}" for j in range(words))
        (folder / f"note{i:02d}.md").write_text(f"# Note {i}\n\n## Part A\n\n{body}\n\n## Part B\n\nSummary of note {i}.\n")
    return folder


def _ids(store):
    return {str(p.id) for p in store.scroll_all()}


def test_second_run_adds_nothing_changed_file_reembedded_deleted_removed(kb_home, tmp_path):
    folder = _notes(tmp_path / "notes", 3)
    (report,) = ingest_paths([folder], show_progress=False)
    assert (report.added, report.updated, report.unchanged, report.removed) == (3, 0, 0, 0)
    store = Store()
    first = _ids(store)
    assert len(first) == store.count("user") == report.chunks > 0

    (again,) = ingest_paths([folder], show_progress=False)
    assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, 3, 0)
    assert _ids(store) == first

    (folder / "note01.md").write_text("# Note 1\n\nCompletely rewritten: batch normalisation.\n")
    (changed,) = ingest_paths([folder], show_progress=False)
    assert (changed.updated, changed.unchanged, changed.added) == (1, 2, 0)
    texts = [p.payload["_node_content"] for p in store.scroll_all()]
    assert any("batch normalisation" in t for t in texts)
    assert not any("topic1 detail" in t for t in texts)

    (folder / "note02.md").unlink()
    (deleted,) = ingest_paths([folder], show_progress=False)
    assert deleted.removed == 1
    sources = {p.payload["source"] for p in store.scroll_all()}
    assert not any(s.endswith("note02.md") for s in sources) and any(s.endswith("note00.md") for s in sources)
    ledger = Ledger(get_settings())
    assert {p for e in ledger.sources.values() for p in e["nodes"]} == _ids(store)


def test_scopes_do_not_delete_each_other(kb_home, tmp_path):
    docs, _ = load_paths([ROADMAP], feed="roadmap")
    ingest_documents(docs, "roadmap", show_progress=False)
    roadmap_count = Store().count("roadmap")
    a = _notes(tmp_path / "a", 2)
    b = _notes(tmp_path / "b", 1)
    ingest_paths([a], show_progress=False)
    ingest_paths([b], show_progress=False)
    ingest_paths([a], show_progress=False)  # re-running one folder keeps the other
    store = Store()
    assert store.count("roadmap") == roadmap_count > 0
    sources = {p.payload["source"] for p in store.scroll_all()}
    assert any("/b/" in s for s in sources) and any("/a/" in s for s in sources)
    # A user file deleted from disk is pruned on the next refresh.
    (b / "note00.md").unlink()
    assert prune_missing_user_files() == 1
    assert not any("/b/" in p.payload["source"] for p in store.scroll_all())


def test_rebuild_drops_everything(kb_home, tmp_path):
    ingest_paths([_notes(tmp_path / "n", 1)], show_progress=False)
    assert Store().count() > 0
    rebuild()
    assert Store().count() == 0 and Ledger(get_settings()).sources == {}
    (report,) = ingest_paths([tmp_path / "n"], show_progress=False)
    assert report.added == 1 and Store().count() == report.chunks


def test_every_document_is_repaired_in_the_pipeline(kb_home):
    from knowledge.readers.files import make_document

    doc = make_document("Gradient descent â€“ step by step ðŸš€", source="docs:x", feed="docs", kind="text", title="X â€“ Y")
    ingest_documents([doc], "docs", scope="docs:x", show_progress=False)
    (point,) = list(Store().scroll_all())
    assert "Gradient descent – step by step 🚀" in point.payload["_node_content"]
    assert point.payload["title"] == "X – Y"


def test_progress_callback_reaches_the_total(kb_home, tmp_path):
    calls = []
    ingest_paths([_notes(tmp_path / "n", 4)], progress=lambda **kw: calls.append(kw), show_progress=False)
    assert calls and calls[-1]["done"] == calls[-1]["total"] > 0 and calls[-1]["stage"] == "embedding user"


CHILD = textwrap.dedent(
    """
    import sys
    from knowledge.pipeline import ingest_documents
    from knowledge.readers.files import load_paths
    docs, _ = load_paths([sys.argv[1]])

    def progress(done, total, stage):
        print("BATCH", done, total, flush=True)
        if done >= 8 and sys.argv[2] == "slow":
            import time; time.sleep(600)   # parked mid-run, waiting for the kill

    ingest_documents(docs, "user", scope="user:test", progress=progress, show_progress=False, batch_chunks=4)
    print("FINISHED", flush=True)
    """
)


@pytest.mark.integration
@pytest.mark.slow
def test_killed_half_way_loses_nothing_and_next_run_completes(kb_home, tmp_path):
    folder = _notes(tmp_path / "many", 12, words=30)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), "slow"], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    seen = 0
    deadline = time.time() + 400
    while time.time() < deadline:
        line = child.stdout.readline()
        if line.startswith("BATCH"):
            seen = int(line.split()[1])
            if seen >= 8:
                break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert seen >= 8, "the child never got half-way"

    ledger = Ledger(get_settings())
    recorded = {i for e in ledger.sources.values() for i in e["nodes"]}
    store = Store()
    stored = _ids(store)
    total_expected = None
    assert recorded and recorded <= stored  # everything the ledger promises is in the store
    assert len(ledger.sources) < 12  # it really was cut off
    close_clients()

    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), "fast"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert "FINISHED" in done.stdout, done.stderr[-2000:]
    ledger = Ledger(get_settings())
    assert len(ledger.sources) == 12
    final = _ids(Store())
    recorded = {i for e in ledger.sources.values() for i in e["nodes"]}
    assert final == recorded  # no duplicates, no orphans
    # A clean single run over the same files gives exactly the same nodes.
    from knowledge.parse import TutorNodeParser
    from knowledge.pipeline import RepairText

    docs, _ = load_paths([folder])
    total_expected = {n.node_id for n in TutorNodeParser()(RepairText()(docs))}
    assert final == total_expected
