"""evals.overlap: the rule that keeps training data and the corpus apart from every eval set."""

from __future__ import annotations

from pathlib import Path

from evals.overlap import eval_items, find_overlaps

ITEMS = [("answers", "a1", "How does dropout prevent co-adaptation of hidden units during training of a network?"),
         ("routing", "r1", "hi")]


def test_a_shared_run_of_words_or_a_whole_short_item_is_an_overlap():
    texts = ["Intro. How does dropout prevent co-adaptation of hidden units during training of a network? It...",
             "Dropout prevents co-adaptation.",  # same topic, different words: not an overlap
             "Hi!",
             "hi there, how are you"]
    assert find_overlaps(texts, ITEMS) == [(0, "answers", "a1"), (2, "routing", "r1")]


def test_our_sets_are_collected_with_their_learner_text():
    items = eval_items(external=None)
    names = {name for name, _, _ in items}
    assert {"answers", "retrieval", "routing", "guide", "faithfulness"} <= names
    assert all(text.strip() for _, _, text in items)


def test_the_shipped_corpus_holds_no_eval_item():
    corpus = Path(__file__).resolve().parents[2] / "knowledge" / "corpus"
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(corpus.rglob("*")) if p.is_file()
             and p.suffix in (".md", ".txt", ".json", ".jsonl", ".yaml", ".yml")]
    assert texts, "no corpus files found"
    hits = find_overlaps(texts, whole=True)
    assert hits == [], hits[:5]


def test_the_corpus_rule_counts_only_a_whole_copied_question():
    passage = "Note: how does dropout prevent co-adaptation of hidden units during training of a network? Because"
    assert find_overlaps([passage], ITEMS, whole=True) == [(0, "answers", "a1")]
    assert find_overlaps(["dropout prevent co-adaptation of hidden units during training of a network"], ITEMS,
                         whole=True) == []
