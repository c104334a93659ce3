"""The roadmap's Keras snippets, read from the roadmap file and run as written on Keras 3/torch."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tutor.lab.keras_roadmap import roadmap_path, roadmap_snippets
from tutor.lab.runner import run


def test_snippets_come_verbatim_from_the_roadmap():
    text = roadmap_path().read_text(encoding="utf-8")
    snippets = roadmap_snippets()
    assert set(snippets) == {"cnn", "rnn"}
    for code in snippets.values():
        assert code in text  # verbatim, not a paraphrase
        assert code.startswith("from tensorflow import keras")
    assert "layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1))" in snippets["cnn"]
    assert "layers.LSTM(64)" in snippets["rnn"]


def test_the_shim_never_leaks_a_fake_tensorflow_module():
    assert "tensorflow" not in sys.modules


@pytest.mark.slow
@pytest.mark.integration
def test_roadmap_cnn_trains_through_keras(lab_settings):
    result = run("cnn", {"framework": "keras", "epochs": 2, "augmentation": False})
    assert result.status == "ok", result.reason
    assert result.framework == "keras"
    assert result.params["image_size"] == 28 and result.params["lr"] == 0.001
    assert [r["epoch"] for r in result.history] == [1, 2]
    assert result.history[1]["train_loss"] < result.history[0]["train_loss"]
    assert result.metrics["test_accuracy"] > 0.8  # two epochs of Adam at 0.001 on 28x28 digits
    assert result.metrics["parameters"] == 54410  # 320 conv + 54,090 dense: the roadmap's model
    summary = Path(result.artifacts["model_summary"]).read_text()
    assert "Conv2D" in summary and "54,410" in summary


@pytest.mark.slow
@pytest.mark.integration
def test_roadmap_lstm_trains_through_keras(lab_settings):
    result = run("rnn", {"framework": "keras", "epochs": 2, "sentences": 1000})
    assert result.status == "ok", result.reason
    assert len(result.history) == 2
    assert 0.0 <= result.metrics["test_accuracy"] <= 1.0
    # Embedding(10000, 64) + LSTM(64) + Dense(1): the roadmap's sizes, built on our data.
    assert result.metrics["parameters"] == 10000 * 64 + 4 * (64 * 64 + 64 * 64 + 64) + 65
