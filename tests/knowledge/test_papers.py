"""The paper-notes feed: the shipped notes are complete and well-formed, and the reader
turns them into citable Documents while reporting (not raising on) malformed notes."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import pytest
import yaml

from knowledge.citation import METADATA_KEYS
from knowledge.readers.arxiv import is_arxiv_id
from knowledge.readers.papers import (
    DEFAULT_FOLDER,
    REQUIRED_SECTIONS,
    ROADMAP_TOPICS,
    PaperNoteError,
    load_paper_notes,
    load_paper_notes_with_problems,
    parse_paper_note,
    split_front_matter,
)
from tutor.errors import TutorError

NOTE_FILES = sorted(DEFAULT_FOLDER.glob("*.md"))
FRONT_MATTER_KEYS = {"title", "authors", "year", "venue", "arxiv", "url", "topics"}


@pytest.fixture(scope="module")
def loaded():
    return load_paper_notes_with_problems()


def _front_matter(path: Path) -> dict:
    fm, _ = split_front_matter(path.read_text(encoding="utf-8"))
    return yaml.safe_load(fm)


def _body(path: Path) -> str:
    return split_front_matter(path.read_text(encoding="utf-8"))[1]


def test_all_shipped_notes_load_without_problems(loaded):
    docs, problems = loaded
    assert problems == []
    assert len(docs) == len(NOTE_FILES)


def test_at_least_44_notes():
    assert len(NOTE_FILES) >= 44


def test_every_roadmap_topic_is_covered(loaded):
    docs, _ = loaded
    counts = {t: 0 for t in ROADMAP_TOPICS}
    for doc in docs:
        for topic in doc.metadata["topics"].split(", "):
            counts[topic] += 1
    missing = [t for t, n in counts.items() if n == 0 and t != "training-tools"]
    assert missing == [], f"no note covers {missing}"


@pytest.mark.parametrize("path", NOTE_FILES, ids=lambda p: p.stem)
def test_front_matter_is_complete_and_typed(path):
    fm = _front_matter(path)
    assert set(fm) == FRONT_MATTER_KEYS
    assert isinstance(fm["title"], str) and fm["title"].strip()
    assert isinstance(fm["authors"], list) and all(isinstance(a, str) and a.strip() for a in fm["authors"])
    assert isinstance(fm["year"], int) and 1940 <= fm["year"] <= 2026
    assert isinstance(fm["venue"], str) and fm["venue"].strip()
    assert fm["url"].startswith("https://")
    assert fm["topics"] and set(fm["topics"]) <= set(ROADMAP_TOPICS)


@pytest.mark.parametrize("path", NOTE_FILES, ids=lambda p: p.stem)
def test_arxiv_id_is_well_formed_and_matches_url(path):
    fm = _front_matter(path)
    if fm["arxiv"] is None:
        assert "arxiv.org" not in fm["url"], "a note with an arXiv URL should carry its arxiv id"
    else:
        assert isinstance(fm["arxiv"], str) and is_arxiv_id(fm["arxiv"])
        assert fm["url"] == f"https://arxiv.org/abs/{fm['arxiv']}"


def _ascii_letters(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower())


@pytest.mark.parametrize("path", NOTE_FILES, ids=lambda p: p.stem)
def test_slug_names_first_author_and_year(path):
    fm = _front_matter(path)
    m = re.fullmatch(r"([a-z]+)(\d{4})-[a-z0-9-]+", path.stem)
    assert m, f"slug {path.stem} is not <surname><year>-<words>"
    assert m.group(2) == str(fm["year"])
    assert m.group(1) == _ascii_letters(fm["authors"][0].split()[-1])


@pytest.mark.parametrize("path", NOTE_FILES, ids=lambda p: p.stem)
def test_body_has_the_four_sections_in_order_and_a_sane_length(path):
    body = _body(path)
    lines = body.strip().splitlines()
    assert lines[0] == f"# {_front_matter(path)['title']}"
    headings = [line[3:].strip() for line in lines if line.startswith("## ")]
    assert headings == list(REQUIRED_SECTIONS)
    words = len(body.split())
    assert 250 <= words <= 500, f"{words} words"
    sections = re.split(r"^## .*$", body, flags=re.MULTILINE)[1:]
    assert all(len(s.split()) >= 15 for s in sections), "a section is nearly empty"


def test_notes_are_unique(loaded):
    docs, _ = loaded
    ids = [d.id_ for d in docs]
    titles = [d.metadata["title"].lower() for d in docs]
    arxiv_ids = [d.metadata["arxiv"] for d in docs if d.metadata["arxiv"]]
    assert len(set(ids)) == len(ids)
    assert len(set(titles)) == len(titles)
    assert len(set(arxiv_ids)) == len(arxiv_ids)


def test_loader_builds_citable_documents(loaded):
    docs, _ = loaded
    doc = next(d for d in docs if d.id_ == "paper:vaswani2017-attention")
    assert doc.doc_id == doc.metadata["source"] == "paper:vaswani2017-attention"
    assert set(METADATA_KEYS) <= set(doc.metadata)
    assert doc.metadata["feed"] == "papers"
    assert doc.metadata["title"] == "Attention Is All You Need"
    assert doc.metadata["section"] == ""
    assert doc.metadata["url"] == "https://arxiv.org/abs/1706.03762"
    assert doc.metadata["version"] is None and doc.metadata["page"] is None
    assert doc.metadata["year"] == 2017
    assert doc.metadata["arxiv"] == "1706.03762"
    assert doc.metadata["authors"].startswith("Ashish Vaswani, Noam Shazeer")
    assert "nlp" in doc.metadata["topics"].split(", ")
    header, rest = doc.text.split("\n\n", 1)
    assert header == f"Attention Is All You Need ({doc.metadata['authors']}, 2017, NeurIPS 2017)"
    # Front matter is stripped: the passage starts at the title heading.
    assert rest.startswith("# Attention Is All You Need\n")
    assert "topics:" not in doc.text and "\n---\n" not in doc.text
    # Each chunk's embedded text names its paper (title) but not ids and bibliography.
    embedded = doc.get_content(metadata_mode="embed")
    assert "title: Attention Is All You Need" in embedded
    assert "arxiv:" not in embedded and "topics:" not in embedded and "url:" not in embedded
    assert doc.metadata["kind"] == "markdown"


def test_et_al_is_joined_without_a_stray_comma(loaded):
    docs, _ = loaded
    doc = next(d for d in docs if d.id_ == "paper:brown2020-gpt3")
    assert doc.metadata["authors"].endswith("Jared Kaplan et al.")


GOOD = ["vaswani2017-attention.md", "he2016-resnet.md"]

BAD_NOTES = {
    "no-front-matter.md": "# Just a heading\n\ntext\n",
    "unclosed.md": "---\ntitle: x\n",
    "bad-yaml.md": "---\ntitle: [unclosed\n---\n# x\n",
    "float-arxiv.md": None,  # built from a good note below
    "unknown-topic.md": None,
    "missing-section.md": None,
    "Bad Name.md": None,
}


def _make_bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "papers"
    folder.mkdir()
    for name in GOOD:
        shutil.copy(DEFAULT_FOLDER / name, folder / name)
    good = (DEFAULT_FOLDER / "vaswani2017-attention.md").read_text(encoding="utf-8")
    variants = {
        "float-arxiv.md": good.replace('arxiv: "1706.03762"', "arxiv: 1706.03762"),
        "unknown-topic.md": good.replace("topics: [nlp,", "topics: [quantum-knitting,"),
        "missing-section.md": good.replace("## Key numbers", "## Numbers"),
        "Bad Name.md": good,
    }
    for name, text in BAD_NOTES.items():
        (folder / name).write_text(text if text is not None else variants[name], encoding="utf-8")
    (folder / "latin1.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")
    return folder


def test_malformed_notes_are_reported_in_one_line_and_the_rest_load(tmp_path):
    folder = _make_bad_folder(tmp_path)
    docs, problems = load_paper_notes_with_problems(folder)
    assert sorted(d.id_ for d in docs) == ["paper:he2016-resnet", "paper:vaswani2017-attention"]
    bad_names = [*BAD_NOTES, "latin1.md"]
    assert len(problems) == len(bad_names)
    for name in bad_names:
        (line,) = [p for p in problems if name in p]
        assert "\n" not in line and len(line) < 300
    by_file = {name: next(p for p in problems if name in p) for name in bad_names}
    assert "quoted string" in by_file["float-arxiv.md"]
    assert "quantum-knitting" in by_file["unknown-topic.md"]
    assert "## Key numbers" in by_file["missing-section.md"]
    assert "not valid YAML" in by_file["bad-yaml.md"]
    assert "UTF-8" in by_file["latin1.md"]


def test_load_paper_notes_hands_problems_to_the_callback(tmp_path):
    folder = _make_bad_folder(tmp_path)
    seen: list[str] = []
    docs = load_paper_notes(folder, on_problem=seen.append)
    assert len(docs) == 2
    assert len(seen) == len(BAD_NOTES) + 1


def test_parse_paper_note_raises_a_one_line_tutor_error(tmp_path):
    folder = _make_bad_folder(tmp_path)
    with pytest.raises(PaperNoteError) as info:
        parse_paper_note(folder / "unknown-topic.md")
    assert isinstance(info.value, TutorError)
    assert str(info.value).startswith("paper note unknown-topic.md:")


def test_a_missing_folder_is_a_problem_not_a_crash(tmp_path):
    docs, problems = load_paper_notes_with_problems(tmp_path / "nope")
    assert docs == [] and len(problems) == 1 and "does not exist" in problems[0]


def test_mojibake_in_a_note_is_repaired(tmp_path):
    good = (DEFAULT_FOLDER / "lecun1998-gradient-based.md").read_text(encoding="utf-8")
    assert "Léon Bottou" in good
    # UTF-8 bytes misread as cp1252 and saved again: the damage the roadmap file has.
    damaged = good.encode("utf-8").decode("cp1252", errors="replace")
    assert "Léon" not in damaged
    (tmp_path / "lecun1998-gradient-based.md").write_text(damaged, encoding="utf-8")
    docs, problems = load_paper_notes_with_problems(tmp_path)
    assert problems == []
    assert "Léon Bottou" in docs[0].metadata["authors"]
