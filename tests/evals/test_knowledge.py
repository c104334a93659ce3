"""The knowledge suite: the prompt, the answer parser, the summary, and (slow) a real run with the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.external import MCQuestion
from evals.knowledge import parse_choice, prompt, summarise

Q = MCQuestion(id="q", question="Which optimiser keeps a running average of squared gradients?",
               choices=["SGD", "RMSprop", "Perceptron rule", "k-means"], answer=1)


def test_the_prompt_letters_every_choice_and_puts_passages_first():
    text = prompt(Q, ["RMSprop divides by a running average of squared gradients."])
    assert text.index("Passages") < text.index("Question:") and "B. RMSprop" in text and "D. k-means" in text
    assert "Passages" not in prompt(Q)


def test_the_cloze_prompt_is_the_question_alone_so_each_choice_is_scored_as_the_reply():
    text = prompt(Q, ["RMSprop divides by a running average."], lettered=False)
    assert text.endswith(f"Question: {Q.question}") and "B. RMSprop" not in text


def test_cloze_scoring_picks_the_choice_the_real_model_finds_likeliest():
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    from evals.knowledge import CLOZE_SYSTEM, ask_choice
    from tutor.config import Settings
    from tutor.llm.backends.llamacpp import LlamaCppLLM
    from tutor.llm.model_files import gguf_path
    from tutor.llm.presets import get_preset

    llm = LlamaCppLLM(gguf_path(get_preset("smollm2-135m"), Settings(), progress=False), n_threads=1,
                      context_window=1024, model_name="smollm2-135m")
    q = MCQuestion(id="fr", question="What is the capital of France?", choices=["Berlin", "Paris", "Madrid"], answer=1)
    choice, shown, _ = ask_choice(llm, q, None, "cloze")
    messages = [ChatMessage(role=MessageRole.SYSTEM, content=CLOZE_SYSTEM),
                ChatMessage(role=MessageRole.USER, content=prompt(q, lettered=False))]
    scores = llm.continuation_logprobs(messages, q.choices)
    llm.close()
    assert choice == max(range(3), key=lambda i: scores[i].mean)
    assert shown.startswith("mean log-prob per token: A ")


@pytest.mark.slow
def test_a_closed_book_run_with_the_tiny_model_writes_a_report(tmp_path):
    from evals.__main__ import main

    csv = tmp_path / "m.csv"
    csv.write_text('question,choices,answer,error_type,correct_answer\n'
                   f'"{Q.question}","{Q.choices!r}",1,OK,\n'
                   '"What does ReLU return for -3?","[\'-3\', \'0\', \'3\', \'1\']",1,OK,\n', encoding="utf-8")
    rc = main(["knowledge", "--dataset", str(csv), "--model", "smollm2-135m", "--conditions", "closed-book",
               "--out", str(tmp_path), "--no-gate", "--no-progress"])
    report = json.loads((Path(tmp_path) / "knowledge.json").read_text())
    assert rc == 0 and report["n"] == 2 and report["model"] == "smollm2-135m"
    assert report["metrics"]["closed_book_accuracy"] == sum(i["closed-book"]["correct"] for i in report["items"]) / 2
