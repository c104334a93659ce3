"""mlp-uat recipe: one hidden layer, error shrinks as the layer widens."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.lab.recipe_driver import run_recipe
from tutor.lab.base import RECIPES

_SHORT = dict(function="sin", steps=200, lr=0.05, widths=[1, 4, 32])


def test_error_shrinks_with_width_and_plot_written(tmp_path):
    r = run_recipe("mlp-uat", tmp_path, **_SHORT)
    m = r.metrics
    assert m["mse_width_1"] > m["mse_width_4"] > m["mse_width_32"]
    # width 1 (one monotone tanh) cannot follow two periods of sin; width 32 nearly can
    assert m["mse_width_1"] > 0.5 * m["target_variance"]
    assert m["mse_width_32"] < 0.1 * m["mse_width_1"]
    assert m["mse_best"] == m["mse_width_32"]
    # each width's progress is in every history row, and the widest one's curve falls
    assert all({"train_loss_width_1", "mse_width_4", "train_loss"} <= set(h) for h in r.history)
    assert r.history[-1]["mse_width_32"] < r.history[0]["mse_width_32"]
    assert {row["width"] for row in r.extras["width_fits"]} == {1, 4, 32}
    png = tmp_path / "uat_fits.png"
    assert r.artifacts["fits"] == str(png) and png.read_bytes()[:4] == b"\x89PNG"


def test_same_seed_same_metrics(tmp_path):
    kw = dict(function="abs", steps=60, widths=[2, 8])
    a = run_recipe("mlp-uat", tmp_path / "a", seed=3, **kw)
    b = run_recipe("mlp-uat", tmp_path / "b", seed=3, **kw)
    c = run_recipe("mlp-uat", tmp_path / "c", seed=4, **kw)
    assert a.metrics == b.metrics
    assert a.metrics != c.metrics


@pytest.mark.parametrize(
    "bad", [{"widths": [0]}, {"widths": [2000]}, {"widths": []}, {"steps": 0}, {"lr": 0}, {"function": "tan"}]
)
def test_bad_params_rejected(bad):
    with pytest.raises(ValidationError):
        RECIPES["mlp-uat"].Params(**bad)
