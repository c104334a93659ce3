"""activations recipe: the same deep MLP with four activations; sigmoid's gradients vanish."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.lab.recipe_driver import run_recipe
from tutor.lab.base import RECIPES


def test_sigmoid_gradients_vanish_and_relu_learns(tmp_path):
    r = run_recipe("activations", tmp_path, epochs=3)
    m = r.metrics
    # the gradient reaching sigmoid's first layer is a tiny fraction of its last layer's
    assert m["grad_ratio_sigmoid"] < 1e-3
    assert m["grad_ratio_relu"] > 0.1 and m["grad_ratio_tanh"] > 0.1 and m["grad_ratio_gelu"] > 0.1
    assert m["first_layer_grad_sigmoid"] < 0.01 * m["first_layer_grad_relu"]
    # ...so the sigmoid net stays near chance while ReLU learns
    assert m["test_accuracy_sigmoid"] < 0.3 < 0.45 < m["test_accuracy_relu"]
    assert m["final_train_loss_sigmoid"] > m["final_train_loss_relu"]
    assert m["test_accuracy"] == max(m[f"test_accuracy_{a}"] for a in ("sigmoid", "tanh", "relu", "gelu"))
    rows = r.extras["grad_norms"]
    assert len(rows) == 3 * 9 * 4  # epochs x linear layers (8 hidden + output) x activations
    assert {"epoch", "layer", "norm"} <= set(rows[0]) and rows[0]["layer"].startswith("sigmoid.")
    assert {"train_loss_relu", "val_accuracy_gelu", "grad_ratio_sigmoid"} <= set(r.history[-1])
    for name in ("losses", "gradient_norms"):
        assert open(r.artifacts[name], "rb").read(4) == b"\x89PNG"


def test_same_seed_same_metrics(tmp_path):
    kw = dict(epochs=1, depth=3, activations=["sigmoid", "relu"])
    a = run_recipe("activations", tmp_path / "a", seed=2, **kw)
    b = run_recipe("activations", tmp_path / "b", seed=2, **kw)
    c = run_recipe("activations", tmp_path / "c", seed=3, **kw)
    assert a.metrics == b.metrics
    assert a.metrics != c.metrics


@pytest.mark.parametrize(
    "bad", [{"activations": ["swish"]}, {"activations": []}, {"depth": 0}, {"depth": 100}, {"lr": 0.0}, {"epochs": 0}]
)
def test_bad_params_rejected(bad):
    with pytest.raises(ValidationError):
        RECIPES["activations"].Params(**bad)


@pytest.mark.integration
def test_through_the_runner_the_diagnosis_sees_vanishing_gradients(lab_settings):
    """The real runner (child process, caps, metrics.json): grad_norms reach the diagnosis."""
    import json

    from tutor.lab.runner import run

    result = run("activations", {"epochs": 1, "width": 16, "activations": ["sigmoid", "relu"]}, settings=lab_settings)
    assert result.status == "ok", result.reason
    assert result.metrics["grad_ratio_sigmoid"] < 1e-3 < result.metrics["grad_ratio_relu"]
    assert result.diagnosis["verdict"] == "vanishing_gradients"
    assert "sigmoid.linear1" in result.diagnosis["findings"][0]["message"]
    for name in ("losses", "gradient_norms"):
        assert open(result.artifacts[name], "rb").read(4) == b"\x89PNG"
    saved = json.loads((lab_settings.runs_dir / result.run_id / "metrics.json").read_text())
    assert saved["metrics"]["test_accuracy"] == pytest.approx(result.metrics["test_accuracy"])
