"""The CLI contract, run as a real subprocess (`python -m tutor.cli`)."""

import json
import os
import subprocess
import sys

import pytest

from tests.knowledge.conftest import REPO

pytestmark = pytest.mark.integration


def tutor(*args, timeout=900):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "tutor.cli", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(out, *words):
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    "args, words",
    [
        (["search", "dropout", "--top-k", "0"], ["top-k"]),
        (["search", "dropout", "--feed", "blogs"], ["blogs", "roadmap"]),
        (["search", "   "], ["empty"]),
        (["ingest", "/no/such/file.md"], ["/no/such/file.md"]),
        (["ingest", "--docs", "surely_not_a_package_xyz"], ["surely_not_a_package_xyz", "not installed"]),
    ],
)
def test_bad_input_is_one_clear_line(kb_home, args, words):
    assert_one_line_error(tutor(*args), *words)
    # Nothing was built or locked by a rejected command.
    assert not (kb_home / "state" / "ingest").exists()


@pytest.mark.slow
def test_ingest_user_files_then_search_json_builds_default_corpus(kb_home, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "gan.md").write_text("# GAN notes\n\nThe generator and the discriminator play a minimax game.\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    out = tutor("ingest", str(folder))
    assert out.returncode == 0, out.stderr
    assert "1 added" in out.stdout
    skipped = [line for line in out.stderr.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 1 and "broken.pdf" in skipped[0]

    # First search on this data dir builds the default corpus (roadmap + papers + the docs packages).
    out = tutor("search", "how does backpropagation work", "--json", "--top-k", "3")
    assert out.returncode == 0, out.stderr[-3000:]
    data = json.loads(out.stdout)
    assert data["query"] == "how does backpropagation work"
    assert len(data["results"]) == 3
    for hit in data["results"]:
        assert {"text", "source", "title", "section", "feed", "score"} <= set(hit)
    assert any("ackpropagation" in h["text"] for h in data["results"])

    for feed in ("roadmap", "papers", "docs", "user"):
        out = tutor("search", "neural network training", "--json", "--feed", feed, "--top-k", "2")
        hits = json.loads(out.stdout)["results"]
        assert hits and {h["feed"] for h in hits} == {feed}, (feed, out.stderr[-2000:])
    docs_hit = json.loads(tutor("search", "DataLoader batch_size shuffle", "--json", "--feed", "docs", "--top-k", "1").stdout)["results"][0]
    assert docs_hit["source"].startswith("docs:torch.utils.data") and docs_hit["version"].startswith("torch ")

    out = tutor("search", "dropout", "--top-k", "2")
    assert out.returncode == 0 and out.stdout.startswith("[1] ") and "[2] " in out.stdout

    # A refresh finds nothing to do; the user's files survive it.
    out = tutor("ingest")
    assert out.returncode == 0, out.stderr[-2000:]
    assert " 0 added" in out.stdout and "0 updated" in out.stdout and "chunks embedded" in out.stdout
    assert all(" 0 chunks embedded" in line for line in out.stdout.splitlines() if "chunks embedded" in line)
    # --docs harvests an installed package into its own scope; already there, so nothing to embed.
    out = tutor("ingest", "--docs", "torch.utils.data")
    assert out.returncode == 0 and "docs (docs:torch.utils.data): 0 added" in out.stdout, out.stderr[-2000:]
    user = json.loads(tutor("search", "minimax game", "--json", "--feed", "user", "--top-k", "1").stdout)["results"]
    assert user and user[0]["source"].endswith("gan.md")
