"""Token budget, dedupe, truncation at sentence boundaries, passage formatting."""

from __future__ import annotations

from knowledge.citation import Citation
from tutor.agent import prompts
from tutor.agent.context import (
    dedupe,
    estimate_tokens,
    fit_passages,
    format_passage,
    passage_budget,
    token_counter,
)


def _p(text: str, source: str = "roadmap:r.md", section: str = "S") -> Citation:
    return Citation(text=text, source=source, title="Roadmap", section=section, feed="roadmap", score=1.0)


def test_estimate_is_conservative_for_english_and_code():
    prose = "Dropout randomly zeroes activations during training to reduce overfitting. " * 5
    # Real BPE tokenizers use ~4 bytes/token on English: the estimate must not be lower than that.
    assert estimate_tokens(prose) >= len(prose.encode()) / 4
    assert estimate_tokens("") == 0
    assert estimate_tokens("日本語") == 3  # 9 bytes


def test_token_counter_without_llm_falls_back_to_estimate():
    count, exact = token_counter(None)
    assert exact is False and count("abcdef") == 2


def test_dedupe_drops_near_identical_and_keeps_distinct():
    a = _p("The CNN compiles with the adam optimizer and sparse categorical crossentropy loss for digits.")
    b = _p("The CNN compiles with the adam optimizer and sparse categorical crossentropy loss for digits!", "docs:x")
    c = _p("An LSTM layer with 64 units remembers sequences for text classification.")
    assert dedupe([a, b, c]) == [a, c]


def test_code_block_stays_fenced_and_an_open_fence_is_closed():
    block = format_passage(1, _p("Model:\n```python\nlayers.LSTM(64)\n```"))
    assert block.startswith("[1] Roadmap › S (roadmap:r.md)\n") and "```python\nlayers.LSTM(64)\n```" in block
    cut = format_passage(2, _p("Model:\n```python\nlayers.LSTM(64)"))
    assert cut.count("```") == 2
    plain = format_passage(3, _p("Model:\n```python\nlayers.LSTM(64)\n```"), style="plain")
    assert "```" not in plain and "layers.LSTM(64)" in plain


def test_fit_keeps_order_until_budget_and_truncates_last_at_a_sentence():
    count = estimate_tokens
    first = _p("First passage about CNNs. " * 10, section="A")
    second = _p(" ".join(f"Sentence number {i} about RNNs." for i in range(40)), section="B")
    budget = count(format_passage(1, first)) + 2 + 80
    fitted = fit_passages([first, second], budget=budget, count=count, exact_tokens=False)
    assert [p.section for p in fitted.passages] == ["A", "B"]
    assert fitted.truncated and fitted.tokens <= budget
    body = fitted.blocks[1].split("\n", 1)[1]
    assert body.endswith(". …")  # cut right after a full sentence
    assert body[:-2] in second.text


def test_fit_drops_a_passage_when_too_little_room_is_left():
    count = estimate_tokens
    first = _p("Alpha beta gamma. " * 20, section="A")
    budget = count(format_passage(1, first)) + 2 + 10
    fitted = fit_passages([first, _p("Delta epsilon zeta. " * 30, section="B")], budget=budget, count=count, exact_tokens=False)
    assert [p.section for p in fitted.passages] == ["A"] and not fitted.truncated and fitted.dropped == 1


def test_most_relevant_last_reverses_numbering():
    ps = [_p(f"Passage {w} text about things.", section=w) for w in ("best", "second", "third")]
    fitted = fit_passages(ps, budget=10_000, count=estimate_tokens, exact_tokens=False, most_relevant="last")
    assert [p.section for p in fitted.passages] == ["third", "second", "best"]
    assert fitted.blocks[2].startswith("[3] Roadmap › best")


def test_budget_accounts_for_answer_and_prompt():
    assert passage_budget(context_window=4096, max_new_tokens=384, fixed_prompt_tokens=200) == 4096 - 384 - 200 - 32
    assert passage_budget(context_window=512, max_new_tokens=500, fixed_prompt_tokens=200) == 0


def test_prompts_render_with_braces_in_passages():
    text = prompts.TUTOR_USER.substitute(passages="[1] x\n```python\nd = {'a': 1}\n```", question="What is d?")
    assert "{'a': 1}" in text and text.index("d = {") < text.index("Question: What is d?")
    retry = prompts.render_tool_retry(["unknown tool 'x'"], {"search"})
    assert "unknown tool 'x'" in retry and "search" in retry and "<tool_call>" in retry
