"""Adding a paper by arXiv id: id validation, the real offline error, and reading a
cached PDF one Document per page."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from knowledge.readers.arxiv import (
    _probe,
    _with_deadline,
    fetch_arxiv,
    is_arxiv_id,
    normalize_arxiv_id,
)
from tutor.errors import OfflineError, TutorError


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1706.03762", "1706.03762"),
        ("1706.03762v5", "1706.03762v5"),
        ("2101.00001", "2101.00001"),
        ("0704.0001", "0704.0001"),
        ("1412.6980", "1412.6980"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("math.GT/0309136v2", "math.GT/0309136v2"),
        ("arXiv:2106.09685", "2106.09685"),
        ("  https://arxiv.org/abs/2106.09685v2 ", "2106.09685v2"),
        ("https://arxiv.org/pdf/1706.03762.pdf", "1706.03762"),
    ],
)
def test_valid_ids_are_normalised(text, expected):
    assert normalize_arxiv_id(text) == expected
    assert is_arxiv_id(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "attention",
        "1706.3762",  # too few digits
        "1501.0001",  # 2015+ ids have five digits
        "1412.12345",  # pre-2015 ids have four
        "0703.1234",  # new-style ids start in April 2007
        "2113.00001",  # month 13
        "1706.03762v0",
        "hep-th/990100",
        "HEP-TH/9901001",
        "1706.03762; rm -rf /",
    ],
)
def test_malformed_ids_raise_a_tutor_error_without_touching_the_network(text, tmp_path):
    start = time.perf_counter()
    with pytest.raises(TutorError) as info:
        fetch_arxiv(text, tmp_path)
    assert type(info.value) is TutorError  # not OfflineError: validation comes first
    assert "is not an arXiv id" in str(info.value)
    assert time.perf_counter() - start < 1.0
    assert list(tmp_path.iterdir()) == []


def test_a_huge_bad_id_gives_a_short_message(tmp_path):
    with pytest.raises(TutorError) as info:
        normalize_arxiv_id("9" * 100_000)
    assert len(str(info.value)) < 250


def _online() -> bool:
    try:
        _probe(3.0)
        return True
    except (OSError, TimeoutError):
        return False


@pytest.mark.integration
def test_offline_fetch_fails_fast_with_the_offline_message(tmp_path):
    if _online():
        pytest.skip("arXiv is reachable from this machine; the offline path cannot be exercised")
    start = time.perf_counter()
    with pytest.raises(OfflineError) as info:
        fetch_arxiv("2106.09685", tmp_path / "papers", probe_timeout=2.0)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0
    assert str(info.value) == (
        "can't reach arXiv to fetch 2106.09685: this machine is offline; "
        "download the PDF elsewhere and `tutor ingest path/to.pdf`"
    )
    assert not (tmp_path / "papers").exists()  # nothing half-written


def test_a_stuck_call_is_cut_off_at_the_deadline():
    start = time.perf_counter()
    with pytest.raises(TimeoutError):
        _with_deadline(lambda: time.sleep(30), 0.3)
    assert time.perf_counter() - start < 2.0
    with pytest.raises(ZeroDivisionError):
        _with_deadline(lambda: 1 / 0, 2.0)
    assert _with_deadline(lambda: 42, 2.0) == 42


def _write_pdf(path: Path, pages: list[str]) -> None:
    """A real multi-page PDF with extractable text (matplotlib's PDF backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        for text in pages:
            fig = plt.figure(figsize=(4, 3))
            if text:
                fig.text(0.05, 0.5, text)
            pdf.savefig(fig)
            plt.close(fig)


def _cache(dest: Path, arxiv_id: str, pages: list[str]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    stem = "arxiv-" + arxiv_id.replace("/", "_")
    _write_pdf(dest / f"{stem}.pdf", pages)
    meta = {
        "arxiv": arxiv_id,
        "title": "A Cached Paper",
        "authors": ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Claude Shannon"],
        "year": 1999,
        "venue": "arXiv preprint",
        "url": f"https://arxiv.org/abs/{arxiv_id}",
    }
    (dest / f"{stem}.json").write_text(json.dumps(meta), encoding="utf-8")


def test_a_cached_paper_is_read_page_by_page_without_network(tmp_path):
    _cache(tmp_path, "hep-th/9901001", ["Branes wrap the circle", "", "Dualities compose"])
    docs = fetch_arxiv("arXiv:hep-th/9901001", tmp_path)
    # The blank middle page carries no text and is skipped; page numbers stay true.
    assert [d.metadata["page"] for d in docs] == [1, 3]
    assert "Branes wrap the circle" in docs[0].text and "Dualities compose" in docs[1].text
    for doc in docs:
        assert doc.metadata["feed"] == "papers"
        assert doc.metadata["source"] == "paper:arxiv-hep-th/9901001"
        assert doc.metadata["title"] == "A Cached Paper"
        assert doc.metadata["arxiv"] == "hep-th/9901001"
        assert doc.metadata["url"] == "https://arxiv.org/abs/hep-th/9901001"
        assert doc.metadata["kind"] == "text"
        assert doc.text.startswith("A Cached Paper (Ada Lovelace, Alan Turing, Grace Hopper et al., 1999")
    assert len({d.id_ for d in docs}) == 2


def test_a_corrupt_cached_pdf_is_a_clear_error(tmp_path):
    _cache(tmp_path, "2106.09685", ["x"])
    (tmp_path / "arxiv-2106.09685.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    with pytest.raises(TutorError) as info:
        fetch_arxiv("2106.09685", tmp_path)
    assert "unreadable" in str(info.value) and "\n" not in str(info.value)


def test_a_cached_pdf_without_text_is_a_clear_error(tmp_path):
    _cache(tmp_path, "2106.09685", ["", ""])
    with pytest.raises(TutorError) as info:
        fetch_arxiv("2106.09685", tmp_path)
    assert "no extractable text" in str(info.value)
