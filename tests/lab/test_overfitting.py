"""overfitting recipe: a big net memorises 200 digits; every remedy narrows the gap."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.lab.recipe_driver import run_recipe
from tutor.lab.base import RECIPES

REMEDIES = ("dropout", "weight_decay", "augmentation", "early_stopping", "all")


def test_baseline_overfits_and_every_remedy_narrows_the_gap(tmp_path):
    r = run_recipe("overfitting", tmp_path, hidden=128, epochs=30)
    m = r.metrics
    assert m["baseline_train_accuracy"] > 0.95
    assert m["baseline_generalization_gap"] > 0.1
    for v in REMEDIES:
        assert m[f"{v}_generalization_gap"] < m["baseline_generalization_gap"], v
        assert m[f"{v}_memorized_noisy_labels"] < m["baseline_memorized_noisy_labels"], v
        assert m[f"{v}_val_accuracy"] > m["baseline_val_accuracy"], v
    assert m["early_stopping_epochs_trained"] <= 30
    # the plain keys carry the baseline's curves in compare mode: they diverge
    val = [h["val_loss"] for h in r.history]
    train = [h["train_loss"] for h in r.history]
    best = val.index(min(val))
    assert val[-1] > min(val) and train[-1] < train[best]
    # in compare mode the headline is the baseline, the model the curves and diagnosis describe
    headline = [row["variant"] for row in r.extras["variants"] if row["headline"]]
    assert headline == ["baseline"] and m["val_accuracy"] == m["baseline_val_accuracy"]
    assert m["generalization_gap"] == pytest.approx(m["train_accuracy"] - m["val_accuracy"])
    for name in ("curves", "gaps"):
        assert open(r.artifacts[name], "rb").read(4) == b"\x89PNG"


def test_single_remedy_trains_beside_the_baseline_and_is_reproducible(tmp_path):
    kw = dict(remedy="augmentation", hidden=32, epochs=2, shift=1)
    a = run_recipe("overfitting", tmp_path / "a", seed=4, **kw)
    b = run_recipe("overfitting", tmp_path / "b", seed=4, **kw)
    assert a.metrics == b.metrics
    assert {row["variant"] for row in a.extras["variants"]} == {"baseline", "augmentation"}
    assert a.metrics["test_accuracy"] == a.metrics["augmentation_test_accuracy"]
    assert "dropout_val_accuracy" not in a.metrics


@pytest.mark.parametrize(
    "bad", [{"remedy": "batchnorm"}, {"n_train": 10}, {"dropout": 0.95}, {"epochs": 0}, {"lr": -1e-3}, {"label_noise": 0.9}]
)
def test_bad_params_rejected(bad):
    with pytest.raises(ValidationError):
        RECIPES["overfitting"].Params(**bad)
