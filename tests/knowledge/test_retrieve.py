import pytest

from knowledge.citation import Citation
from knowledge.pipeline import ingest_documents, ingest_paths
from knowledge.readers.files import load_paths, make_document
from knowledge.retrieve import (
    Retriever,
    bm25_is_fresh,
    content_first,
    diversify_sources,
    get_retriever,
    interleave,
    reciprocal_rank_fusion,
)
from tests.knowledge.conftest import ROADMAP
from tutor.errors import OfflineError, TutorError

DOCS = {
    "docs:torch.nn.LSTM": "torch.nn.LSTM(input_size, hidden_size, num_layers=1, batch_first=False): applies a multi-layer long short-term memory RNN to an input sequence.",
    "docs:torch.optim.Adam": "torch.optim.Adam(params, lr=0.001, betas=(0.9, 0.999)): implements the Adam algorithm with adaptive moment estimates.",
    "docs:torch.nn.Dropout": "torch.nn.Dropout(p=0.5): during training, randomly zeroes some elements of the input tensor with probability p.",
}


@pytest.fixture
def small_kb(kb_home, tmp_path):
    roadmap, _ = load_paths([ROADMAP], feed="roadmap")
    ingest_documents(roadmap, "roadmap", show_progress=False)
    docs = [
        make_document(text, source=src, feed="docs", kind="text", title=src[5:], section=src[5:].rsplit(".", 1)[0], version="torch 2.13.0")
        for src, text in DOCS.items()
    ]
    ingest_documents(docs, "docs", scope="docs:test", show_progress=False)
    notes = tmp_path / "mine"
    notes.mkdir()
    (notes / "gan.md").write_text("# My GAN notes\n\nA generator and a discriminator play a minimax game.\n")
    ingest_paths([notes], show_progress=False)
    return Retriever()


def test_all_modes_return_citations(small_kb):
    for mode in ("dense", "bm25", "hybrid"):
        hits = small_kb.search("How do networks learn from their mistakes? backpropagation", top_k=3, mode=mode)
        assert 1 <= len(hits) <= 3 and all(isinstance(h, Citation) for h in hits)
        assert hits[0].source == "roadmap:deep_learning_roadmap.md"
        assert "Backpropagation" in hits[0].section
        assert hits[0].score >= hits[-1].score


def test_exact_api_name_and_citation_fields(small_kb):
    (hit,) = small_kb.search("torch.nn.LSTM batch_first", top_k=1)
    assert hit.source == "docs:torch.nn.LSTM" and hit.feed == "docs" and hit.version == "torch 2.13.0"
    assert hit.title == "torch.nn.LSTM" and "long short-term memory" in hit.text


def test_feed_filter(small_kb):
    for feed in ("roadmap", "docs", "user"):
        hits = small_kb.search("neural network training", top_k=5, feed=feed)
        assert hits and {h.feed for h in hits} == {feed}
    assert small_kb.search("neural network", feed="papers") == []  # nothing ingested there
    (user,) = small_kb.search("generator discriminator minimax", top_k=1, feed="user")
    assert user.source.startswith("user:/") and user.source.endswith("gan.md") and user.url.startswith("file://")


def test_bad_input_is_a_tutor_error(small_kb):
    with pytest.raises(TutorError, match="feed"):
        small_kb.search("x", feed="blogs")
    with pytest.raises(TutorError, match="top-k"):
        small_kb.search("x", top_k=0)
    with pytest.raises(TutorError, match="empty"):
        small_kb.search("   ")
    with pytest.raises(TutorError, match="mode"):
        small_kb.search("x", mode="fuzzy")


def test_bm25_follows_ingestion(small_kb, tmp_path):
    assert bm25_is_fresh()
    assert small_kb.search("zebrafish", mode="bm25") == []
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "fish.txt").write_text("The zebrafish is a model organism in biology.")
    ingest_paths([extra], show_progress=False)
    assert bm25_is_fresh()
    hits = small_kb.search("zebrafish", mode="bm25")  # same Retriever sees the new index
    assert hits and hits[0].source.endswith("fish.txt")


def test_reciprocal_rank_fusion():
    a = [({"id": "x"}, 9.0), ({"id": "y"}, 8.0)]
    b = [({"id": "y"}, 0.9), ({"id": "z"}, 0.5)]
    fused = reciprocal_rank_fusion([a, b], k=60)
    assert [r["id"] for r, _ in fused] == ["y", "x", "z"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    # A heavier second list lifts its own second hit (z) above the first list's top hit (x).
    weighted = reciprocal_rank_fusion([a, b], k=60, weights=(1.0, 3.0))
    assert [r["id"] for r, _ in weighted] == ["y", "z", "x"]
    assert weighted[1][1] == pytest.approx(3 / 62)


def test_diversify_sources_puts_each_sources_best_chunk_first_and_drops_nothing():
    hits = [({"id": "1", "source": "a"}, 0.9), ({"id": "2", "source": "a"}, 0.8),
            ({"id": "3", "source": "b"}, 0.7), ({"id": "4", "source": "a"}, 0.6), ({"id": "5", "source": "c"}, 0.5)]
    assert [r["id"] for r, _ in diversify_sources(hits)] == ["1", "3", "5", "2", "4"]
    single = [({"id": str(i), "source": "roadmap"}, 1.0 - i / 10) for i in range(4)]
    assert diversify_sources(single) == single  # one source: order kept, nothing lost


def test_process_wide_retriever_is_shared(kb_home):
    assert get_retriever() is get_retriever()


def test_reranker_unavailable_offline_is_clear(small_kb, monkeypatch):
    from tutor.config import get_settings

    monkeypatch.setenv("TUTOR_RERANKER", "cross-encoder/ms-marco-MiniLM-L-6-v2")
    get_settings.cache_clear()
    retriever = Retriever()
    with pytest.raises(OfflineError, match="reranker"):
        retriever.search("dropout", top_k=2)


def test_reranker_hook_applies_a_local_cross_encoder(small_kb, monkeypatch, tmp_path):
    # No cross-encoder ships offline, so build a tiny one from the shipped MiniLM weights:
    # the point is that the hook loads a local folder and reorders by its scores.
    from sentence_transformers import CrossEncoder

    from knowledge.embed import resolve_model_path
    from tutor.config import get_settings

    folder = tmp_path / "ce"
    CrossEncoder(str(resolve_model_path("all-MiniLM-L6-v2")), num_labels=1).save(str(folder))
    monkeypatch.setenv("TUTOR_RERANKER", str(folder))
    get_settings.cache_clear()
    hits = Retriever().search("dropout probability", top_k=3)
    assert len(hits) == 3
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_a_search_of_an_empty_knowledge_base_builds_nothing_and_says_so(kb_home):
    from knowledge.store import Store

    with pytest.raises(TutorError, match="knowledge base is empty.*tutor ingest"):
        Retriever().search("what does dropout do")
    assert Store().count() == 0  # no hidden default-corpus build


def test_navigation_sections_rank_after_every_explanation(kb_home):
    # The link list repeats the query's words; the explanation paraphrases. Without the flag
    # the link list wins on BM25.
    note = (
        "# Dropout\n\n## Key idea\n\nDuring training each unit is removed at random, so the network cannot "
        "rely on co-adapted features and generalises better.\n\n## Roadmap links\n\n"
        "- Essential Skills > Regularization > dropout overfitting.\n- Dropout fights overfitting.\n"
    )
    docs = [make_document(note, source="paper:dropout-test", feed="papers", kind="markdown", title="Dropout")]
    ingest_documents(docs, "papers", show_progress=False)
    for mode in ("hybrid", "dense", "bm25"):
        hits = Retriever().search("how does dropout fight overfitting", top_k=5, mode=mode)
        sections = [h.section for h in hits]
        assert sections[0].endswith("Key idea"), (mode, sections)
        assert sections[-1].endswith("Roadmap links")  # ranked last, not dropped


def test_two_part_question_gets_passages_for_both_parts(small_kb):
    question = "How do I create an LSTM layer in PyTorch, and what does a generator and discriminator do?"
    parts = small_kb.search(question, top_k=2)
    assert {h.source for h in parts[:2]} >= {"docs:torch.nn.LSTM"}
    assert any(h.source.endswith("gan.md") for h in parts[:2]), [h.source for h in parts]


def test_content_first_and_interleave():
    hits = [({"id": "n", "navigation": True}, 0.9), ({"id": "a"}, 0.8), ({"id": "b"}, 0.7)]
    assert [r["id"] for r, _ in content_first(hits)] == ["a", "b", "n"]
    one = [({"id": "a"}, 1.0), ({"id": "b"}, 0.5), ({"id": "c"}, 0.2)]
    two = [({"id": "x"}, 1.0), ({"id": "a"}, 0.5)]
    assert [r["id"] for r, _ in interleave([one, two])] == ["a", "x", "b", "c"]
