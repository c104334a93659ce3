import json

import pytest

from knowledge.readers.files import load_file, load_paths
from tests.knowledge.conftest import ROADMAP, write_pdf
from tutor.errors import TutorError


def test_roadmap_is_read_and_repaired():
    docs, problems = load_paths([ROADMAP], feed="roadmap")
    assert problems == []
    (doc,) = docs
    assert doc.doc_id == doc.metadata["source"] == "roadmap:deep_learning_roadmap.md"
    assert doc.metadata["feed"] == "roadmap"
    assert doc.metadata["title"] == "Data Science Roadmap 2025 - Core Skills: Deep Learning"
    assert "🚀" in doc.text and "ðŸš€" not in doc.text and "â€“" not in doc.text


def test_every_supported_type(tmp_path):
    (tmp_path / "a.md").write_text("# Notes\n\nDropout zeroes activations.\n")
    (tmp_path / "b.txt").write_text("Plain text about momentum â€“ repaired.", encoding="utf-8")
    (tmp_path / "c.py").write_text("def relu(x):\n    return max(0, x)\n")
    (tmp_path / "d.html").write_text(
        "<html><head><title>Pooling</title><script>var x=1;</script></head><body>"
        "<h2>Max pooling</h2><p>Takes the maximum.</p><pre>y = pool(x)</pre></body></html>"
    )
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# LSTM demo\nSequence model."},
            {"cell_type": "code", "metadata": {}, "source": "import torch\nlstm = torch.nn.LSTM(4, 8)", "outputs": [], "execution_count": 1},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "e.ipynb").write_text(json.dumps(notebook))
    write_pdf(tmp_path / "f.pdf", ["Page one talks about convolutions.", "Page two talks about pooling."])
    docs, problems = load_paths([tmp_path])
    assert problems == []
    by_name = {}
    for doc in docs:
        by_name.setdefault(doc.metadata["source"].rsplit("/", 1)[-1], []).append(doc)
    assert set(by_name) == {"a.md", "b.txt", "c.py", "d.html", "e.ipynb", "f.pdf"}
    assert by_name["a.md"][0].metadata["title"] == "Notes"
    assert "–" in by_name["b.txt"][0].text
    assert by_name["c.py"][0].metadata["kind"] == "code"
    html = by_name["d.html"][0]
    assert html.metadata["title"] == "Pooling"
    assert "## Max pooling" in html.text and "```\ny = pool(x)\n```" in html.text and "var x" not in html.text
    nb = by_name["e.ipynb"][0]
    assert "Sequence model." in nb.text and "```python\nimport torch" in nb.text
    pages = sorted(by_name["f.pdf"], key=lambda d: d.metadata["page"])
    assert [d.metadata["page"] for d in pages] == [1, 2]
    assert "convolutions" in pages[0].text and "pooling" in pages[1].text
    assert len({d.doc_id for d in pages}) == 2 and {d.metadata["source"] for d in pages} == {pages[0].metadata["source"]}
    for doc in docs:
        assert doc.metadata["feed"] == "user"
        assert doc.metadata["source"].startswith("user:/")
        assert doc.metadata["url"].startswith("file://")


def test_bad_files_are_one_line_problems_and_the_rest_goes_on(tmp_path, tutor_home, monkeypatch):
    (tmp_path / "good.md").write_text("# Good\n\nReal content.")
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "broken.ipynb").write_text("{not json")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "binary.txt").write_bytes(b"abc\x00\x01\x02")
    (tmp_path / ".hidden.md").write_text("# hidden")
    docs, problems = load_paths([tmp_path])
    assert [d.metadata["title"] for d in docs] == ["Good"]
    assert len(problems) == 5, problems
    for line in problems:
        assert "\n" not in line and line.endswith("skipped")
    joined = " ".join(problems)
    for name in ("empty.txt", "broken.pdf", "broken.ipynb", "image.png", "binary.txt"):
        assert name in joined
    assert "unsupported" in joined and "empty" in joined


def test_size_cap(tmp_path, tutor_home, monkeypatch):
    big = tmp_path / "big.txt"
    big.write_text("word " * 60_000)  # 300 kB
    docs, problems = load_paths([big])
    assert docs and not problems
    monkeypatch.setenv("TUTOR_MAX_FILE_MB", "0.1")
    from tutor.config import get_settings

    get_settings.cache_clear()
    docs, problems = load_paths([big])
    assert docs == [] and len(problems) == 1 and "limit" in problems[0] and "TUTOR_MAX_FILE_MB" in problems[0]


def test_missing_path_is_a_user_error(tmp_path):
    with pytest.raises(TutorError, match="no such file"):
        load_paths([tmp_path / "nope.md"])


def test_non_utf8_text_is_decoded(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Réseaux de neurones à convolution, très utilisés pour les images.".encode("cp1252"))
    (doc,) = load_file(path)
    assert "Réseaux" in doc.text and "très" in doc.text
