"""The Store against every engine that can run here.

``edge`` (Qdrant Edge, the default) and ``local`` (qdrant-client's local mode) are real
embedded engines on disk. A Qdrant *server* cannot run on this machine (no binary, no
network), so the server branch is covered as far as the client it builds and the compose file.
"""

import os
import subprocess
import sys
import textwrap
import uuid

import numpy as np
import pytest
import yaml
from qdrant_client import QdrantClient

from knowledge.store import Store, client_kwargs, close_clients, edge_path, get_client
from tests.knowledge.conftest import REPO
from tutor.config import Settings, get_settings

BACKENDS = ["edge", "local"]


@pytest.fixture(params=BACKENDS)
def backend(request, tutor_home, monkeypatch) -> str:
    monkeypatch.setenv("TUTOR_STORE_BACKEND", request.param)
    get_settings.cache_clear()
    yield request.param
    close_clients()
    get_settings.cache_clear()


def _ids(n: int) -> list[str]:
    return [str(uuid.UUID(int=i + 1)) for i in range(n)]


def test_server_settings_build_a_server_client(tutor_home):
    settings = Settings(qdrant_url="http://qdrant:6333", qdrant_api_key="secret")
    assert client_kwargs(settings) == {"url": "http://qdrant:6333", "api_key": "secret", "timeout": 30}
    # Constructing the client does not connect; it must be a remote client at that URL.
    client = QdrantClient(**client_kwargs(settings))
    assert client.init_options["url"] == "http://qdrant:6333" and client.init_options["api_key"] == "secret"
    assert Store(settings, client=client).engine == "server"
    assert client_kwargs(Settings()) == {"path": str(Settings().qdrant_path)}


def test_default_embedded_engine_is_qdrant_edge(tutor_home):
    store = Store()
    assert store.engine == "edge"
    store.ensure(4)
    assert (edge_path(get_settings()) / store.collection / "edge_config.json").exists()
    # The feed and source filters read keyword payload indexes, built with the collection.
    assert {"feed", "source"} <= set(store.client.info(store.collection).payload_schema)
    close_clients()


def test_store_operations(backend):
    store = Store()
    assert store.engine == backend
    assert store.count() == 0 and store.query([0.1] * 4, 3) == [] and store.dim() is None
    store.ensure(4)
    ids = _ids(3)
    store.upsert(
        ids,
        np.eye(4, dtype=np.float32)[:3],
        [{"feed": "papers", "source": "paper:a"}, {"feed": "docs", "source": "docs:b"}, {"feed": "docs", "source": "docs:c"}],
    )
    assert store.count() == 3 and store.count("docs") == 2 and store.dim() == 4
    hits = store.query([1, 0.1, 0, 0], 5, feed="docs")
    assert [h.payload["source"] for h in hits] == ["docs:b", "docs:c"]
    top = store.query([1, 0.1, 0, 0], 1, with_payload=False)
    assert top[0].id == ids[0] and isinstance(top[0].id, str) and top[0].score == pytest.approx(1.0)
    # Upserting an existing id overwrites it: same count, new payload.
    store.upsert([ids[0]], [[1, 0, 0, 0]], [{"feed": "user", "source": "user:a"}])
    assert store.count() == 3 and store.retrieve([ids[0]])[0].payload["feed"] == "user"
    store.delete_ids([ids[1]])
    assert store.count() == 2 and {str(p.id) for p in store.scroll_all()} == {ids[0], ids[2]}
    store.delete_where("source", "docs:c")
    assert store.count() == 1
    with pytest.raises(Exception, match="rebuild"):
        store.ensure(8)
    store.drop()
    assert not store.exists() and store.count() == 0


def test_feed_search_matches_exact_search(backend):
    # Both engines search exactly at this size; filtered and unfiltered hits must be exactly
    # numpy's ranking, for a common feed, a rare one and one with no points at all.
    rng = np.random.default_rng(7)
    store = Store()
    store.ensure(16)
    feeds = np.array(["docs"] * 300 + ["papers"] * 60 + ["roadmap"] * 2)
    vectors = rng.standard_normal((len(feeds), 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = _ids(len(feeds))
    store.upsert(ids, vectors, [{"feed": f, "source": f"{f}:{i}", "text": f"t{i}"} for i, f in enumerate(feeds)])
    for query in rng.standard_normal((5, 16)).astype(np.float32):
        scores = vectors @ query
        for feed, k in ((None, 10), ("docs", 10), ("papers", 10), ("roadmap", 5), ("user", 3)):
            order = [i for i in np.argsort(-scores) if feed is None or feeds[i] == feed][:k]
            hits = store.query(query, k, feed=feed)
            assert [h.id for h in hits] == [ids[i] for i in order]
            assert [h.payload["text"] for h in hits] == [f"t{i}" for i in order]
            assert np.allclose([h.score for h in hits], scores[order], atol=1e-5)
    assert len(store.query(rng.standard_normal(16), 5, feed="roadmap")) == 2


def test_scroll_pages_resume_from_an_offset(backend):
    store = Store()
    store.ensure(4)
    ids = _ids(25)
    store.upsert(ids, np.ones((25, 4), dtype=np.float32) / 2, [{"feed": "docs"}] * 25)
    pages = list(store.scroll_pages(batch=10))
    assert [len(p) for p, _ in pages] == [10, 10, 5] and pages[-1][1] is None
    # Starting from the first page's next offset gives exactly the remaining points.
    rest = [str(p.id) for page, _ in store.scroll_pages(batch=10, offset=pages[0][1]) for p in page]
    assert rest == [str(p.id) for page, _ in pages[1:] for p in page]
    assert sorted(rest + [str(p.id) for p in pages[0][0]]) == sorted(ids)


def test_points_survive_closing_and_reopening(backend):
    store = Store()
    store.ensure(4)
    store.upsert(_ids(2), [[1, 0, 0, 0], [0, 1, 0, 0]], [{"feed": "docs"}, {"feed": "papers"}])
    first = store.client
    close_clients()
    again = Store()
    assert again.client is not first
    assert again.count() == 2 and again.count("papers") == 1 and again.dim() == 4
    if backend == "edge":
        # A Store kept across close_clients (the process-wide retriever does) reopens the shared client.
        assert store.count() == 2 and store.client is again.client


@pytest.mark.integration
@pytest.mark.parametrize("engine", BACKENDS)
def test_second_process_gets_a_clear_lock_error(tutor_home, monkeypatch, engine):
    monkeypatch.setenv("TUTOR_STORE_BACKEND", engine)
    get_settings.cache_clear()
    client = get_client()
    assert client is get_client()  # one client per process
    code = textwrap.dedent(
        """
        from knowledge.store import get_client
        from tutor.errors import StoreLockedError
        try:
            get_client()
        except StoreLockedError as exc:
            print("LOCKED:", exc)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert "LOCKED:" in out.stdout, out.stderr
    assert f"pid {os.getpid()}" in out.stdout
    assert "TUTOR_QDRANT_URL" in out.stdout and "Traceback" not in out.stdout + out.stderr
    close_clients()
    if engine == "edge":  # Edge's lock is ours (flock): once closed, another process can open it.
        code = "from knowledge.store import Store; print('COUNT', Store().count())"
        out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert "COUNT 0" in out.stdout, out.stderr
    get_settings.cache_clear()


def test_compose_file_wires_the_tutor_to_the_qdrant_server():
    compose = yaml.safe_load((REPO / "deploy" / "docker-compose.yml").read_text())
    services = compose["services"]
    assert "qdrant" in services and "tutor" in services
    assert services["qdrant"]["image"].startswith("qdrant/qdrant")
    env = services["tutor"]["environment"]
    env = dict(e.split("=", 1) for e in env) if isinstance(env, list) else env
    assert env["TUTOR_QDRANT_URL"] == "http://qdrant:6333"
    assert "TUTOR_QDRANT_API_KEY" in env
    assert "qdrant" in services["tutor"]["depends_on"]
    # The env var names are the ones the settings object reads.
    settings = Settings(**{"qdrant_url": env["TUTOR_QDRANT_URL"]})
    assert client_kwargs(settings)["url"] == "http://qdrant:6333"
    assert "TUTOR_QDRANT_URL".removeprefix("TUTOR_").lower() in Settings.model_fields
    assert "TUTOR_QDRANT_API_KEY".removeprefix("TUTOR_").lower() in Settings.model_fields


def test_a_local_mode_store_from_before_is_imported_into_edge_once(tutor_home, monkeypatch):
    # Upgrading users have their vectors in local mode and a ledger that says they are
    # ingested; the first Edge open must bring those points over, and leave the old folder be.
    monkeypatch.setenv("TUTOR_STORE_BACKEND", "local")
    get_settings.cache_clear()
    old = Store()
    old.ensure(4)
    ids = _ids(5)
    old.upsert(ids, np.eye(5, 4, dtype=np.float32), [{"feed": "user", "source": f"user:{i}", "text": f"t{i}"} for i in range(5)])
    close_clients()
    monkeypatch.setenv("TUTOR_STORE_BACKEND", "edge")
    get_settings.cache_clear()
    store = Store()
    assert store.engine == "edge" and store.count() == 5 and store.count("user") == 5 and store.dim() == 4
    assert store.retrieve([ids[2]])[0].payload == {"feed": "user", "source": "user:2", "text": "t2"}
    assert [h.id for h in store.query([1, 0, 0, 0], 1)] == [ids[0]]
    store.delete_ids([ids[0]])
    close_clients()
    # Imported once: the next open keeps Edge's state (4 points) instead of importing again,
    # and a dropped collection (`tutor ingest --rebuild`) stays dropped.
    again = Store()
    assert again.count() == 4
    again.drop()
    close_clients()
    assert not Store().exists()
    close_clients()
    monkeypatch.setenv("TUTOR_STORE_BACKEND", "local")
    get_settings.cache_clear()
    assert Store().count() == 5  # the local-mode store itself was not changed
    close_clients()
    get_settings.cache_clear()
