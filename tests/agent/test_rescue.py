"""The answer rescue: a refusal, an echo or an empty answer from relevant passages becomes a cited quote."""

from __future__ import annotations

import pytest

from tutor.agent.rescue import DECLINED, LEAD, AnswerRescue, closest_sentences, is_refusal_or_echo, rescued

PASSAGES = [
    "Dropout randomly drops units during training so that they cannot co-adapt. It is a cheap way to "
    "fight overfitting in large networks.\n\n```python\nnn.Dropout(p=0.5)\n```",
    "Batch normalisation normalises each layer's inputs over the mini-batch. It allows higher learning rates.",
]
QUESTION = "How does dropout fight overfitting?"


@pytest.fixture
def encode(agent_env):
    from knowledge.embed import get_encoder

    return get_encoder().encode


def _run(pieces: list[str], encode) -> tuple[str, AnswerRescue]:
    stage = AnswerRescue(QUESTION, PASSAGES, encode)
    out = "".join(stage.feed(p) for p in pieces) + stage.flush()
    return out, stage


@pytest.mark.parametrize("sentence, expected", [
    ("[1] My sources don't cover that.", True),
    ("The passages do not answer this question.", True),
    ("How does dropout fight overfitting? [1]", True),  # the question back
    ("Dropout drops random units so they cannot co-adapt [1].", False),
])
def test_refusals_and_echoes_are_recognised(sentence, expected):
    assert is_refusal_or_echo(sentence, QUESTION) is expected


def test_an_answer_in_the_question_s_words_with_a_new_number_is_not_an_echo():
    question = "What is the minimum value of the GELU function, and where is it reached?"
    assert not is_refusal_or_echo("The minimum value of the GELU function is about -0.17, reached near -0.75 [1].", question)
    assert is_refusal_or_echo("What is the minimum value of the GELU function? [1]", question)


def test_a_real_answer_streams_unchanged(encode):
    pieces = ["Dropout drops random units ", "during training [1]. ", "That stops co-adaptation [1]."]
    out, stage = _run(pieces, encode)
    assert out == "".join(pieces) and stage.answered and not stage.rescued


def test_a_refusal_before_a_real_answer_is_dropped_and_a_short_lead_kept(encode):
    out, stage = _run(["[1] My sources don't cover that.\n\n", "No. ", "Dropout drops random units [1]."], encode)
    assert out == "No. Dropout drops random units [1]." and stage.dropped == ["[1] My sources don't cover that."]


@pytest.mark.parametrize("pieces", [["[1]"], ["[1] My sources ", "don't cover that."], [QUESTION + " [1]"], ["No"]])
def test_no_answer_becomes_the_closest_passage_sentences_quoted_and_cited(pieces, encode):
    out, stage = _run(pieces, encode)
    assert stage.rescued and out.startswith(LEAD)
    quotes = [line for line in out.splitlines() if line.startswith("> ")]
    # The closest sentences, at most two, only those near the question: both from the dropout passage.
    assert 1 <= len(quotes) <= 2 and all(q.endswith("[1].") for q in quotes)
    assert "fight overfitting" in quotes[0] or "co-adapt" in quotes[0]
    assert all("nn.Dropout" not in q for q in quotes)  # code is not quoted as prose


def test_closest_sentences_rank_by_meaning(encode):
    picked = closest_sentences("Why can batch norm allow a larger learning rate?", PASSAGES, encode, k=1)
    assert [n for n, _ in picked] == [2]


def test_sentence_tails_are_not_quoted(encode):
    passages = ["Results by Leshno et al. (1993) later showed that almost any activation works as well here."]
    assert closest_sentences("Which activations work?", passages, encode) == []


def test_nothing_quotable_leaves_what_the_model_said(encode):
    stage = AnswerRescue(QUESTION, ["too short."], encode)
    assert stage.feed("No") == "" and stage.flush() == "No" and not stage.rescued


def test_the_stream_form_yields_the_same_text(encode):
    assert "".join(rescued(iter(["Dropout works [1]."]), AnswerRescue(QUESTION, PASSAGES, encode))) == "Dropout works [1]."
    assert "".join(rescued(iter(["[1]"]), AnswerRescue(QUESTION, PASSAGES, encode))).startswith(LEAD)


def test_a_refusal_stands_when_no_passage_sentence_is_close_to_the_question(encode):
    question = "How many dollars did it cost Meta to train its largest model?"
    stage = AnswerRescue(question, PASSAGES, encode)
    out = stage.feed("[1] My sources don't cover that.") + stage.flush()
    assert out == DECLINED and stage.declined and not stage.rescued
    assert closest_sentences(question, PASSAGES, encode, k=1)  # there was something to quote, too far
