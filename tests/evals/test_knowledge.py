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


@pytest.mark.parametrize("reply, choice", [("B", 1), ("B. RMSprop", 1), ("The answer is C.", 2), ("(A)", 0),
                                           ("I think RMSprop", None), ("E", None), ("", None)])
def test_the_first_standalone_choice_letter_is_the_answer(reply, choice):
    assert parse_choice(reply, 4) == choice


def test_summary_counts_accuracy_per_condition_and_what_retrieval_changed():
    def item(cb, rt):
        return {"choices": ["a", "b", "c", "d"], "closed-book": {"correct": cb, "choice": "A"},
                "retrieval": {"correct": rt, "choice": "A" if rt else None}}

    m = summarise([item(True, True), item(False, True), item(True, False), item(False, False)],
                  ("closed-book", "retrieval"))
    assert m["closed_book_accuracy"] == 0.5 and m["retrieval_accuracy"] == 0.5 and m["retrieval_gain"] == 0.0
    assert m["fixed_by_retrieval"] == 1 and m["broken_by_retrieval"] == 1
    assert m["retrieval_unparsed"] == 0.5 and m["chance"] == 0.25


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
