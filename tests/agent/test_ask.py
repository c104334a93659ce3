"""`ask` end to end: real retrieval on a small real corpus, the real tiny model (SmolLM2-135M)."""

from __future__ import annotations

import re

import pytest

from tutor.agent.ask import Answer, ask
from tutor.errors import TutorError

CNN_LOSS = "Which loss function does the roadmap's Keras CNN example compile with?"
OFF_TOPIC = "what's the capital of France's best bakery"


def _markers(text: str) -> set[int]:
    prose = re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", text, flags=re.DOTALL))
    return {int(n) for n in re.findall(r"(?<![\w)\]])\[(\d+)\]", prose)}


def _assert_citations_valid(answer: Answer, given_texts: list[str]) -> None:
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1))  # renumbered, no gaps
    assert all(c.text in given_texts for c in answer.citations)  # only passages that were given
    assert _markers(answer.answer) <= set(numbers)  # every [n] in the text has a source
    if not answer.citations:
        assert answer.sources and all(s.text in given_texts for s in answer.sources)


def test_ask_end_to_end_gives_answer_with_only_valid_citations(agent_env, tiny_llm):
    events = list(ask(CNN_LOSS, llm=tiny_llm, stream=True, top_k=3))
    given = [p.text for p in events[0].passages]
    answer = events[-1].answer
    assert answer.grounded and answer.answer.strip()
    assert 1 <= answer.used_passages == len(given)
    assert any("sparse_categorical_crossentropy" in t for t in given)  # retrieval found the CNN snippet
    assert answer.model == "smollm2-135m" and answer.latency_s > 0
    _assert_citations_valid(answer, given)


def test_streaming_yields_tokens_incrementally_and_matches_final(agent_env, tiny_llm):
    # Without citation attribution the model's own deltas stream (attribution holds each sentence back
    # until it is complete, so its pieces are sentences, as many as the model happens to write).
    plain = agent_env.model_copy(update={"attribute_citations": False})
    events = list(ask("What does the roadmap say about overfitting?", llm=tiny_llm, stream=True, top_k=2,
                      settings=plain))
    kinds = [e.type for e in events]
    assert kinds[0] == "passages" and kinds[-1] == "answer"
    tokens = [e.text for e in events if e.type == "token"]
    assert len(tokens) >= 3  # many small pieces, not one blob at the end
    assert "".join(tokens).strip() == events[-1].answer.answer
    assert events[-1].answer.ttft_s is not None and events[-1].answer.ttft_s <= events[-1].answer.latency_s


def test_off_topic_question_takes_the_not_in_sources_path(agent_env, tiny_llm):
    answer = ask(OFF_TOPIC, llm=tiny_llm)
    assert not answer.grounded and answer.model == "none" and answer.used_passages == 0
    assert answer.citations == [] and answer.sources == []
    assert "don't cover" in answer.answer


def test_feed_filter_only_gives_that_feed(agent_env, tiny_llm):
    events = list(ask("What is the universal approximation theorem?", feed="papers", llm=tiny_llm, stream=True, top_k=2))
    passages = events[0].passages
    assert passages and all(p.source.startswith("paper") for p in passages)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(question="   "), "empty"),
        (dict(question="x" * 5000), "under 2000"),
        (dict(question="What is dropout?", feed="tweets"), "Unknown feed"),
        (dict(question="What is dropout?", top_k=0), "between 1 and 100"),
    ],
)
def test_bad_input_is_one_plain_error(agent_env, kwargs, message):
    with pytest.raises(TutorError, match=message):
        ask(**kwargs)

