import subprocess
import sys
import textwrap

import pytest
import yaml
from qdrant_client import QdrantClient

from knowledge.store import Store, client_kwargs, get_client
from tests.knowledge.conftest import REPO
from tutor.config import Settings
from tutor.errors import StoreLockedError


def test_server_settings_build_a_server_client(tutor_home):
    settings = Settings(qdrant_url="http://qdrant:6333", qdrant_api_key="secret")
    assert client_kwargs(settings) == {"url": "http://qdrant:6333", "api_key": "secret", "timeout": 30}
    # Constructing the client does not connect; it must be a remote client at that URL.
    client = QdrantClient(**client_kwargs(settings))
    assert client.init_options["url"] == "http://qdrant:6333" and client.init_options["api_key"] == "secret"
    assert client_kwargs(Settings()) == {"path": str(Settings().qdrant_path)}


def test_store_operations_on_an_in_memory_embedded_client(tutor_home):
    # QdrantClient(":memory:") is qdrant_client's local (embedded) mode, the same branch as the
    # default on-disk store, only without files. It is not a server: no Qdrant server can run on
    # this machine, so the server branch is covered only as far as the client it builds
    # (test_server_settings_build_a_server_client) and the compose file (below).
    store = Store(Settings(), client=QdrantClient(location=":memory:"))
    assert store.count() == 0 and store.query([0.1] * 4, 3) == []
    store.ensure(4)
    from qdrant_client import models

    store.client.upsert(
        store.collection,
        points=[
            models.PointStruct(id=1, vector=[1, 0, 0, 0], payload={"feed": "papers", "source": "paper:a"}),
            models.PointStruct(id=2, vector=[0, 1, 0, 0], payload={"feed": "docs", "source": "docs:b"}),
        ],
    )
    assert store.count() == 2 and store.count("docs") == 1
    hits = store.query([1, 0.1, 0, 0], 5, feed="docs")
    assert [h.payload["source"] for h in hits] == ["docs:b"]
    store.delete_ids([2])
    assert store.count() == 1
    with pytest.raises(Exception, match="rebuild"):
        store.ensure(8)
    store.drop()
    assert not store.exists()


@pytest.mark.integration
def test_second_process_gets_a_clear_lock_error(tutor_home):
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
    import os

    assert f"pid {os.getpid()}" in out.stdout
    assert "TUTOR_QDRANT_URL" in out.stdout and "Traceback" not in out.stdout
    from knowledge.store import close_clients

    close_clients()


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


def test_embedded_feed_search_matches_qdrants_own_filter(tutor_home):
    # Embedded mode answers feed-filtered searches from a wider unfiltered ranking (its own
    # filter is slow); the hits must be exactly what Qdrant's filtered search returns, for a
    # common feed, a rare one (the fallback path) and one with no points at all.
    import numpy as np
    from qdrant_client import models

    from knowledge.store import feed_filter

    rng = np.random.default_rng(7)
    store = Store(Settings())
    store.ensure(16)
    feeds = ["docs"] * 300 + ["papers"] * 60 + ["roadmap"] * 2
    vectors = rng.standard_normal((len(feeds), 16)).astype(np.float32)
    store.client.upload_collection(
        store.collection, vectors=vectors, ids=range(len(feeds)),
        payload=[{"feed": f, "source": f"{f}:{i}", "text": f"t{i}"} for i, f in enumerate(feeds)],
    )
    for query in rng.standard_normal((5, 16)):
        for feed, k in (("docs", 10), ("papers", 10), ("roadmap", 5), ("user", 3)):
            ours = store.query(query, k, feed=feed)
            ref = store.client.query_points(
                store.collection, query=query.tolist(), limit=k, query_filter=feed_filter(feed), with_payload=True
            ).points
            assert [p.id for p in ours] == [p.id for p in ref]
            assert [p.payload for p in ours] == [p.payload for p in ref]
            assert all(p.payload["feed"] == feed for p in ours)
    assert len(store.query(rng.standard_normal(16), 5, feed="roadmap")) == 2
    store.drop()
