"""Compare two real runs: params diff, metric direction, overlaid curves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.lab.compare import compare_runs

pytestmark = pytest.mark.slow


def test_compare_shows_what_changed_and_which_run_won(cnn_runs, session_settings):
    a, c = cnn_runs["a"], cnn_runs["c"]
    data = compare_runs(a.run_id, c.run_id, session_settings)
    assert data["params_diff"] == {"lr": {"a": 0.01, "b": 0.001}}
    acc = data["metrics_diff"]["test_accuracy"]
    assert acc["delta"] == pytest.approx(c.metrics["test_accuracy"] - a.metrics["test_accuracy"])
    expected = "same" if acc["delta"] == 0 else ("b" if acc["delta"] > 0 else "a")
    assert acc["better"] == expected == data["winner"]
    loss = data["metrics_diff"]["test_loss"]
    assert loss["better"] == ("b" if loss["b"] < loss["a"] else "a")  # lower loss wins
    assert "lr 0.01 -> 0.001" in data["summary"]
    assert Path(data["plot"]).read_bytes().startswith(b"\x89PNG")


def test_identical_runs_compare_as_same(cnn_runs, session_settings):
    data = compare_runs(cnn_runs["a"].run_id, cnn_runs["b"].run_id, session_settings, plot=False)
    assert data["params_diff"] == {}
    assert data["metrics_diff"]["test_accuracy"]["better"] == "same"
