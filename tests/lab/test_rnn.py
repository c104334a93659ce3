"""The rnn recipe: the LSTM clears 0.90 and beats the order-blind bag-of-words baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.lab.runner import run

pytestmark = pytest.mark.slow


def test_lstm_reads_word_order_that_bag_of_words_cannot(lab_settings):
    result = run("rnn", {"epochs": 3, "sentences": 4000})
    assert result.status == "ok", result.reason
    m = result.metrics
    assert m["test_accuracy"] >= 0.90
    assert m["baseline_accuracy"] <= 0.75
    assert m["test_accuracy"] > m["baseline_accuracy"] + 0.15
    assert m["gain_over_baseline"] == pytest.approx(m["test_accuracy"] - m["baseline_accuracy"])
    examples = json.loads(Path(result.artifacts["examples"]).read_text())
    assert examples and {"text", "label", "predicted"} <= set(examples[0])
    assert Path(result.artifacts["confusion_matrix"]).exists()
    layers = {r["layer"] for r in result.extras["grad_norms"]}
    assert {"embedding", "rnn.weight_ih_l0", "out"} <= layers
