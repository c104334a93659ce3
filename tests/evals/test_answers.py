"""The answers suite's rules, on hand-made answers whose scores are known."""

from __future__ import annotations

from evals.answers import AnswerCase, load_dataset, score_answer, summarise
from tutor.agent.ask import SourceRef

CASE = AnswerCase(id="t", question="What does dropout do?", key_points=[["randomly drop", "randomly zero"],
                                                                      ["overfitting", "co-adapt"]],
                  must_keep=["p = 0.5"], contradictions=["sets weights to zero"])
PASSAGE = ("Dropout randomly drops units and their connections during training, with p = 0.5 for hidden units, "
           "which prevents co-adaptation and reduces overfitting.")
REF = SourceRef(n=1, source="paper:d", title="Dropout", section="Key idea", text=PASSAGE)


def test_a_correct_cited_answer():
    text = "Dropout randomly drops units during training with p = 0.5, which reduces overfitting [1]."
    row = score_answer(CASE, text, [REF], [REF], grounded=True)
    assert row["correct"] and row["inline_cited"] and row["exact_keep"] and not row["pasted"]
    assert row["cited_sentences"] == row["supported_sentences"] == 1


def test_a_contradicting_uncited_answer():
    row = score_answer(CASE, "Backprop randomly drops nothing; it sets weights to zero against overfitting.", [], [REF], True)
    assert not row["correct"] and not row["inline_cited"] and row["exact_keep"] is False


def test_a_pasted_passage_and_an_unsupported_marker():
    pasted = score_answer(CASE, "Dropout › Key idea\n" + PASSAGE, [], [REF], True)
    assert pasted["pasted"]
    wrong = score_answer(CASE, "Paris has wonderful bakeries and cafes everywhere [1].", [REF], [REF], True)
    assert wrong["cited_sentences"] == 1 and wrong["supported_sentences"] == 0


def test_abstention_and_summary():
    una = AnswerCase(id="u", question="best bakery in Paris?", answerable=False)
    rows = [score_answer(una, "My sources don't cover that, so I won't guess.", [], [], False) | {"latency_s": 1.0},
            score_answer(CASE, "Dropout randomly zeroes units against overfitting [1].", [REF], [REF], True)
            | {"latency_s": 3.0}]
    m = summarise(rows)
    assert m["abstention"] == 1.0 and m["correctness"] == 1.0 and m["latency_p50_s"] == 2.0


def test_the_shipped_set_is_large_and_balanced():
    cases = load_dataset()
    assert sum(c.answerable for c in cases) >= 80 and sum(not c.answerable for c in cases) >= 20
    assert all(c.key_points and c.source for c in cases if c.answerable)
