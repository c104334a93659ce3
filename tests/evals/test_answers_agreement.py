"""The answers judge against human labels (evals/answers_agreement.py)."""

from __future__ import annotations

import pytest

from evals.answers_agreement import kappa, main, scores


def test_kappa_and_the_judges_precision_and_recall():
    pairs = [(True, True)] * 3 + [(False, False)] * 5 + [(False, True)] * 2  # a strict judge
    s = scores(pairs)
    assert s["agreement"] == 0.8 and s["judge_precision"] == 1.0 and s["judge_recall"] == 0.6
    assert kappa(pairs) == pytest.approx((0.8 - (0.3 * 0.5 + 0.7 * 0.5)) / (1 - 0.5))
    assert kappa([(True, True), (False, False)]) == 1.0


def test_the_shipped_labels_cover_the_shipped_sample_runs(capsys):
    assert main([]) == 0
    rows = {line.split("|")[1].strip(): line for line in capsys.readouterr().out.splitlines()[2:]}
    assert set(rows) == {"tutor", "llamaindex", "tutor-run2", "tutor-ownwords", "all"}
    assert rows["all"].split("|")[2].strip() == "96"
