"""`tutor kb migrate --to URL`: the embedded (Edge) store copied into a Qdrant server.

No Qdrant server can run on the test machines (no binary, no network). The copy itself is
therefore checked against qdrant-client's local mode, which implements the same client API a
server answers (``QdrantClient(path=...)``): a stand-in for the server, named as such below.
What *can* be real here is real: an unreachable URL, and an HTTP server that refuses us.
"""

import hashlib
import os
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from qdrant_client import QdrantClient

from knowledge.edge_migrate import migrate
from knowledge.store import Store, close_clients, edge_path
from tests.knowledge.conftest import REPO
from tutor.config import get_settings
from tutor.errors import TutorError

N = 300


def _fill_embedded(n: int = N) -> tuple[list[str], np.ndarray]:
    store = Store()
    assert store.engine == "edge"
    store.ensure(8)
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((n, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"chunk-{i}")) for i in range(n)]
    feeds = ["roadmap", "papers", "docs", "user"]
    store.upsert(ids, vectors, [{"feed": feeds[i % 4], "source": f"s:{i}", "text": f"passage {i}"} for i in range(n)])
    return ids, vectors


def _tree_digest(folder) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_copy_into_a_local_mode_standin_for_the_server_keeps_every_point(tutor_home, tmp_path):
    ids, vectors = _fill_embedded()
    server = QdrantClient(path=str(tmp_path / "standin-server"))  # stand-in: same API as a server
    seen = []
    report = migrate("http://standin", settings=get_settings(), batch=50, client=server,
                     progress=lambda done, total, stage: seen.append((done, total)))
    assert (report.total, report.copied, report.already_there, report.server_count) == (N, N, 0, N)
    assert seen[-1] == (N, N) and len(seen) == N // 50  # one progress step per batch
    copied = {str(p.id): p for p in server.scroll(get_settings().collection, limit=N + 10, with_vectors=True)[0]}
    assert set(copied) == set(ids)
    for i in (0, 17, N - 1):
        point = copied[ids[i]]
        assert point.payload["text"] == f"passage {i}" and point.payload["source"] == f"s:{i}"
        assert np.allclose(point.vector, vectors[i], atol=1e-6)
    # The embedded store still holds everything.
    assert Store().count() == N
    close_clients()
    server.close()


def test_an_interrupted_copy_resumes_without_duplicates(tutor_home, tmp_path):
    _fill_embedded()
    server = QdrantClient(path=str(tmp_path / "standin-server"))

    def stop_after_two(done, total, stage):
        if done >= 100:
            raise KeyboardInterrupt  # what Ctrl-C does in the middle of the copy

    with pytest.raises(KeyboardInterrupt):
        migrate("http://standin", settings=get_settings(), batch=50, client=server, progress=stop_after_two)
    assert server.count(get_settings().collection).count == 100
    report = migrate("http://standin", settings=get_settings(), batch=50, client=server)
    assert (report.already_there, report.copied, report.server_count) == (100, N - 100, N)
    close_clients()
    server.close()


def test_an_empty_embedded_store_is_refused(tutor_home, tmp_path):
    server = QdrantClient(path=str(tmp_path / "standin-server"))
    with pytest.raises(TutorError, match="empty"):
        migrate("http://standin", settings=get_settings(), client=server)
    close_clients()
    server.close()


class _Refuse(BaseHTTPRequestHandler):
    def _deny(self):
        body = b'{"status":{"error":"Must provide an API key or an Authorization bearer token"}}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = _deny

    def log_message(self, *args):
        pass


@pytest.mark.integration
def test_unreachable_or_refusing_server_gets_one_line_and_the_store_is_untouched(tutor_home):
    _fill_embedded()
    close_clients()  # the CLI runs in another process and needs the embedded lock
    folder = edge_path(get_settings())
    before = _tree_digest(folder)
    # The CLI, end to end: nothing listens on the discard port.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-m", "tutor.cli", "kb", "migrate", "--to", "http://127.0.0.1:9"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    lines = out.stderr.strip().splitlines()
    assert out.returncode != 0 and len(lines) == 1, out.stderr
    assert lines[0].startswith("error: cannot use the Qdrant server at http://127.0.0.1:9"), lines[0]
    assert "embedded knowledge base was not changed" in lines[0] and "Traceback" not in out.stdout
    # A real HTTP server that refuses every request, and a URL that is not one.
    refuser = ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    threading.Thread(target=refuser.serve_forever, daemon=True).start()
    try:
        with pytest.raises(TutorError, match="401") as refused:
            migrate(f"http://127.0.0.1:{refuser.server_port}", settings=get_settings())
        assert "\n" not in str(refused.value)
    finally:
        refuser.shutdown()
    with pytest.raises(TutorError, match="must be a Qdrant server URL"):
        migrate("localhost:6333", settings=get_settings())
    assert _tree_digest(folder) == before  # not one byte of the embedded store changed
    assert Store().count() == N
    close_clients()
