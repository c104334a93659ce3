"""`tutor ask` as a user runs it: a real subprocess on the small corpus with the tiny model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cli_home(corpus_home, tmp_path_factory):
    """A copy of the small corpus: embedded Qdrant locks its folder, and this test process
    (which built the corpus) still holds the original."""
    home = tmp_path_factory.mktemp("cli") / "home"
    shutil.copytree(corpus_home, home)
    return home


def _tutor(args: list[str], home, extra_env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    from tests.agent.conftest import SMALL_CORPUS_ENV

    env = {**os.environ, **SMALL_CORPUS_ENV, "TUTOR_HOME": str(home), **(extra_env or {})}
    env.pop("TUTOR_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "tutor.cli", "ask", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


@pytest.mark.slow
def test_ask_json_has_the_documented_shape(cli_home):
    proc = _tutor(["Which loss does the roadmap's CNN example compile with?", "--json", "--top-k", "2"], cli_home)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # stdout is nothing but the JSON object
    # Today's contract, plus what the agent adds (issue 9): the session, the mode, the tool calls.
    assert {"answer", "citations", "model", "latency_s", "session_id", "mode", "tool_calls"} <= set(data)
    assert data["mode"] == "explain" and data["tool_calls"][0]["name"] == "search_knowledge"
    assert data["answer"].strip() and data["model"] == "smollm2-135m" and data["latency_s"] > 0
    assert data["citations"], "an answer always carries its citations or its sources"
    for i, c in enumerate(data["citations"], 1):
        assert set(c) == {"n", "source", "title", "section", "text"} and c["n"] == i and c["text"]


@pytest.mark.slow
def test_ask_streams_text_then_numbered_sources(cli_home):
    proc = _tutor(["What does the roadmap recommend against overfitting?", "--top-k", "2"], cli_home)
    assert proc.returncode == 0, proc.stderr
    assert "Sources" in proc.stdout and "  [1] " in proc.stdout
    assert "roadmap:" in proc.stdout or "paper:" in proc.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        ([""], "question is empty"),
        (["What is dropout?", "--feed", "tweets"], "Unknown feed"),
        (["What is dropout?", "--top-k", "0"], "top-k"),
        (["What is dropout?", "--session", "../etc"], "session id"),
        (["What is dropout?", "--mode", "lecture"], "Unknown mode"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(tutor_home, args, needle):
    # A fresh, empty data dir: bad input must be refused before any corpus build or model load.
    proc = _tutor(args, tutor_home, timeout=120)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tutor_home / "qdrant").exists()


@pytest.mark.slow
def test_fresh_data_dir_builds_the_corpus_first_with_progress(cli_home, tmp_path):
    # A data dir whose default corpus is not complete for the configured docs packages: `tutor ask`
    # must (re)build it before answering, telling the user on stderr, then answer normally.
    home = tmp_path / "home"
    shutil.copytree(cli_home, home)
    proc = _tutor(
        ["What does torch.utils.data.DataLoader do?", "--json"],
        home,
        extra_env={"TUTOR_DOCS_PACKAGES": '["torch.utils.data"]'},
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Building the default knowledge base" in proc.stderr
    assert "%|" in proc.stderr  # a tqdm progress bar was drawn on stderr
    data = json.loads(proc.stdout)
    assert any(c["source"].startswith("docs:torch.utils.data") for c in data["citations"])

