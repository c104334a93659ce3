"""The cnn recipe at CI settings: quality bar, artifacts, reproducibility, parameter rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.errors import TutorError
from tutor.lab.catalog import validate_params

pytestmark = pytest.mark.slow


def test_cnn_meets_the_bar_and_writes_its_artifacts(cnn_runs):
    result = cnn_runs["a"]
    assert result.status == "ok", result.reason
    assert result.metrics["test_accuracy"] >= 0.95
    assert len(result.history) == 8
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    for name in ("curves", "confusion_matrix", "tensorboard", "model"):
        assert Path(result.artifacts[name]).exists(), name
    assert any(Path(result.artifacts["tensorboard"]).glob("events.out.tfevents.*"))
    # Gradient norms per layer are logged for the diagnosis: conv first, dense last.
    layers = [r["layer"] for r in result.extras["grad_norms"] if r["epoch"] == 1]
    assert layers == ["0", "5"]
    record = json.loads((Path(result.run_dir) / "metrics.json").read_text())
    assert record["metrics"]["test_accuracy"] == result.metrics["test_accuracy"]
    assert record["diagnosis"]["verdict"] in {"converged", "still_improving", "overfitting"}


def test_same_seed_and_params_give_identical_metrics(cnn_runs):
    a, b = cnn_runs["a"], cnn_runs["b"]
    assert a.run_id != b.run_id
    assert a.metrics == b.metrics
    assert a.history == b.history


def test_keras_framework_pins_the_roadmap_code():
    params = validate_params("cnn", {"framework": "keras"})
    assert (params.filters, params.lr, params.image_size, params.optimizer) == (32, 0.001, 28, "adam")
    with pytest.raises(TutorError, match="exactly as written.*filters"):
        validate_params("cnn", {"framework": "keras", "filters": 8})
    with pytest.raises(TutorError, match="dropout must be a number between 0 and 0.9"):
        validate_params("cnn", {"dropout": 1.5})


def test_diagnosis_of_a_real_run_that_barely_learns(lab_settings):
    from tutor.lab.runner import run

    result = run("cnn", {"optimizer": "sgd", "lr": 0.0001, "epochs": 3, "augmentation": False})
    assert result.status == "ok"
    assert result.metrics["test_accuracy"] < 0.3
    assert result.diagnosis["verdict"] == "underfitting"
    assert "close to guessing" in result.diagnosis["summary"]
