"""The tutor's memory on a real database: SQLite (always) and PostgreSQL (when the server is installed)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tutor.agent.memory.repository import MASTERY_WEIGHT, Memory
from tutor.errors import TutorError


def _exercise(memory: Memory) -> None:
    s = memory.open_session("ann", None, "guide")
    assert s.mode == "guide" and len(s.id) == 12
    memory.add_message("ann", s.id, "user", "I am training a CNN on digits")
    memory.add_message("ann", s.id, "assistant", "Nice.")
    memory.record_run("ann", s.id, {"run_id": "cnn-20260101-000000-aaaa", "kind": "cnn", "status": "ok",
                                    "params": {"epochs": 3}, "metrics": {"test_accuracy": 0.9}})
    first = memory.record_attempt("ann", s.id, "rnn", "Q?", "A", 1.0, "good")
    second = memory.record_attempt("ann", s.id, "rnn", "Q?", "B", 0.0, "bad")
    assert first == 1.0 and second == pytest.approx(1.0 - MASTERY_WEIGHT)
    # Another learner sees none of it, and cannot open or continue ann's session.
    assert memory.sessions_for("bob") == [] and memory.runs_for("bob") == [] and memory.mastery_for("bob") == {}
    assert not memory.owns_run("bob", "cnn-20260101-000000-aaaa")
    with pytest.raises(TutorError, match="not available"):
        memory.open_session("bob", s.id)
    with pytest.raises(TutorError, match="no session"):
        memory.messages("bob", s.id)
    with pytest.raises(TutorError, match="belongs to another user"):
        memory.record_run("bob", None, {"run_id": "cnn-20260101-000000-aaaa", "kind": "cnn", "status": "ok"})


def test_sqlite_memory_survives_a_restart_and_keeps_users_apart(tmp_path):
    url = f"sqlite:///{tmp_path / 'tutor.db'}"
    memory = Memory(url)
    _exercise(memory)
    sid = memory.sessions_for("ann")[0]["id"]
    memory.close()

    again = Memory(url)  # a restart: migrations find the schema current, nothing is lost
    assert [m["content"] for m in again.messages("ann", sid)] == ["I am training a CNN on digits", "Nice."]
    assert again.sessions_for("ann")[0]["title"].startswith("I am training")
    assert again.mastery_for("ann")["rnn"]["attempts"] == 2
    assert again.runs_for("ann")[0]["metrics"] == {"test_accuracy": 0.9}
    assert again.messages("ann", sid, limit=1)[0]["content"] == "Nice."


@pytest.mark.parametrize("bad", ["../etc", "x" * 65, "a b"])
def test_bad_session_ids_are_one_line_errors(tmp_path, bad):
    with pytest.raises(TutorError, match="session id"):
        Memory(f"sqlite:///{tmp_path / 't.db'}").open_session("ann", bad)


def test_an_unreachable_database_is_one_line(tmp_path):
    with pytest.raises(TutorError, match="cannot open the tutor's database"):
        Memory(f"sqlite:///{tmp_path / 'missing-dir' / 'sub' / 't.db'}")


# --- PostgreSQL: a throwaway cluster on a loopback port, when Debian's server is installed ---------------

def _pg_bin() -> Path | None:
    root = Path("/usr/lib/postgresql")
    versions = sorted(root.glob("*/bin/initdb")) if root.is_dir() else []
    return versions[-1].parent if versions else None


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory):
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed here (scripts/test.sh installs it with apt)")
    pytest.importorskip("psycopg")
    # Under /tmp itself: pytest's own temp folders are private to root, and as root the server must
    # run as the postgres user, who has to reach its data folder.
    base = Path(tempfile.mkdtemp(prefix="tutor-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    data = base / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "tutor"], check=True,
                   capture_output=True)
    proc = subprocess.Popen([*run_as, str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
                             "-k", str(data)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"postgresql+psycopg://tutor@127.0.0.1:{port}/postgres"
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(20)
    shutil.rmtree(base, ignore_errors=True)


def test_postgresql_memory_is_the_same_memory(postgres_url):
    memory = Memory(postgres_url)
    _exercise(memory)
    memory.close()
    again = Memory(postgres_url)
    assert again.mastery_for("ann")["rnn"]["attempts"] == 2
