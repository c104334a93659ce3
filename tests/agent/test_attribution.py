"""Markers are added only where a passage holds the sentence's words; streaming stays exact."""

from __future__ import annotations

from tutor.agent.attribution import SentenceAttributor, attributed, best_passage, content_words

PASSAGES = [
    "Batch normalisation normalises each layer's inputs over the mini-batch, which allows higher learning rates.",
    "Dropout randomly drops units and their connections during training, which prevents units from co-adapting "
    "and reduces overfitting.",
]


def test_a_supported_sentence_gets_its_passage():
    assert best_passage("Dropout randomly drops units during training to reduce overfitting.",
                        [content_words(p) for p in PASSAGES]) == 2


def test_an_unsupported_sentence_gets_nothing():
    assert best_passage("Paris is the capital of France and has many bakeries.", [content_words(p) for p in PASSAGES]) is None


def test_stream_is_marked_sentence_by_sentence_and_keeps_the_models_own_markers():
    deltas = ["Dropout randomly ", "drops units during training", " to reduce overfitting. It was ",
              "introduced in 2014 [1]. Paris is nice."]
    out = list(attributed(iter(deltas), PASSAGES))
    text = "".join(out)
    assert text == ("Dropout randomly drops units during training to reduce overfitting [2]. "
                    "It was introduced in 2014 [1]. Paris is nice.")
    assert len(out) >= 2  # emitted as sentences complete, not all at the end


def test_code_blocks_are_left_alone():
    a = SentenceAttributor(PASSAGES)
    text = a.feed("```python\nDropout randomly drops units during training.\n```\n") + a.flush()
    assert "[2]" not in text and a.added == 0
