"""Each verdict of the diagnosis on synthetic curves built to show exactly that behaviour."""

from __future__ import annotations

import math

import pytest

from tutor.lab.diagnosis import diagnose


def rows(train, val=None, train_acc=None, val_acc=None):
    out = []
    for i, t in enumerate(train):
        row = {"epoch": i + 1, "train_loss": t}
        if val is not None:
            row["val_loss"] = val[i]
        if train_acc is not None:
            row["train_accuracy"] = train_acc[i]
        if val_acc is not None:
            row["val_accuracy"] = val_acc[i]
        out.append(row)
    return out


def test_converged_names_the_epoch_where_the_curve_flattens():
    train = [1.0, 0.4, 0.2, 0.12, 0.1, 0.1, 0.1, 0.1]
    val = [1.0, 0.45, 0.25, 0.16, 0.15, 0.15, 0.15, 0.15]
    d = diagnose(rows(train, val), metrics={"test_accuracy": 0.97}, chance_accuracy=0.1)
    assert d["verdict"] == "converged"
    assert "epoch 4" in d["summary"] and "97.0%" in d["summary"]
    assert any(f["kind"] == "converged" and f["epoch"] == 4 for f in d["findings"])


def test_overfitting_reports_start_epoch_and_gap():
    train = [1.0, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02]
    val = [1.0, 0.7, 0.5, 0.45, 0.5, 0.6, 0.7, 0.8]
    d = diagnose(rows(train, val), params={"epochs": 8, "dropout": 0.0})
    assert d["verdict"] == "overfitting"
    assert "epoch 4" in d["summary"]
    assert "0.78" in d["summary"]  # the gap, 0.8 - 0.02
    assert any("dropout" in s for s in d["suggestions"])
    assert not any("weight decay" in s.lower() for s in d["suggestions"])  # no such knob in params


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_diverged_on_non_finite_loss(bad):
    d = diagnose(rows([2.3, 1.9, bad, bad]), params={"lr": 5.0})
    assert d["verdict"] == "diverged"
    assert "epoch 3" in d["summary"]
    assert any("learning rate" in s for s in d["suggestions"])


def test_diverged_on_exploding_loss():
    d = diagnose(rows([2.0, 1.0, 0.8, 5.0, 40.0]))
    assert d["verdict"] == "diverged"
    assert "40" in d["summary"]


def test_a_loss_that_ends_above_its_start_is_diverging():
    # Real cnn run with SGD+momentum at lr 1.0: accuracy at chance, loss creeping up.
    d = diagnose(rows([1.91, 2.10, 2.15, 2.26]), chance_accuracy=0.1, params={"lr": 1.0})
    assert d["verdict"] == "diverged"
    assert "1.91" in d["summary"] and "2.26" in d["summary"]


def test_underfitting_near_chance_accuracy():
    train = [2.30, 2.29, 2.29, 2.28, 2.28, 2.28]
    d = diagnose(rows(train, train, val_acc=[0.1, 0.11, 0.12, 0.12, 0.12, 0.12]), chance_accuracy=0.1,
                 params={"epochs": 6, "lr": 1e-5})
    assert d["verdict"] == "underfitting"
    assert "12.0%" in d["summary"] and "10.0%" in d["summary"]


def test_still_improving_at_the_end():
    train = [1.0, 0.7, 0.5, 0.35, 0.25, 0.18]
    val = [1.0, 0.72, 0.52, 0.37, 0.27, 0.2]
    d = diagnose(rows(train, val), params={"epochs": 6})
    assert d["verdict"] == "still_improving"
    assert "More epochs" in d["summary"]
    assert d["suggestions"] == ["Run more epochs."]


def test_tiny_late_gains_on_a_solved_task_count_as_converged():
    # Real rnn run: 100% accuracy, val loss 0.003 -> 0.0018 in the last epoch.
    val = [0.69, 0.05, 0.008, 0.003, 0.0018]
    d = diagnose(rows([0.69, 0.2, 0.01, 0.004, 0.002], val, val_acc=[0.55, 0.98, 1.0, 1.0, 1.0]), chance_accuracy=0.5)
    assert d["verdict"] == "converged"
    assert "epoch 3" in d["summary"]


def test_vanishing_gradients_from_grad_norm_series():
    norms = []
    for epoch in (1, 2):
        for i, norm in enumerate([1e-7, 1e-5, 1e-3, 0.5]):
            norms.append({"epoch": epoch, "layer": f"layer{i}", "norm": norm})
    train = [0.7, 0.69, 0.69, 0.69]
    d = diagnose(rows(train, train), extras={"grad_norms": norms}, params={"activation": "sigmoid"})
    assert d["verdict"] == "vanishing_gradients"
    assert "layer0" in d["summary"]
    assert any(f["kind"] == "vanishing_gradients" for f in d["findings"])


def test_healthy_gradients_are_not_called_vanishing():
    norms = [{"epoch": 1, "layer": f"l{i}", "norm": n} for i, n in enumerate([0.3, 0.4, 0.5])]
    d = diagnose(rows([1.0, 0.3, 0.1, 0.1, 0.1], [1.0, 0.3, 0.12, 0.12, 0.12]), extras={"grad_norms": norms})
    assert d["verdict"] == "converged"


def test_too_short_and_empty_histories():
    assert diagnose(rows([0.5]))["verdict"] == "too_short"
    empty = diagnose([])
    assert empty["verdict"] == "too_short" and "no loss curve" in empty["summary"]


def test_early_stop_status_is_mentioned():
    d = diagnose(rows([1.0, 0.5, 0.3]), status="cancelled")
    assert "cancelled" in d["summary"]


def test_summary_numbers_are_finite_text():
    d = diagnose(rows([1.0, 0.5, 0.4, 0.39]))
    assert "nan" not in d["summary"] and not math.isnan(len(d["summary"]))
    assert set(d) == {"verdict", "summary", "findings", "suggestions"}
