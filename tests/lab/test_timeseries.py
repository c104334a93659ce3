"""timeseries recipe: an LSTM on real statsmodels data beats the naive forecasts."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from tests.lab.recipe_driver import run_recipe
from tutor.lab.base import RECIPES, RunContext


def test_lstm_beats_naive_and_seasonal_naive_on_co2(tmp_path):
    r = run_recipe("timeseries", tmp_path, epochs=6)
    m = r.metrics
    assert m["test_mae"] < m["naive_mae"] and m["test_mae"] < m["seasonal_naive_mae"]
    assert m["skill"] > 0.3 and m["seasonal_skill"] > 0.3
    assert m["skill"] == pytest.approx(1 - m["test_mae"] / m["naive_mae"])
    assert m["test_rmse"] >= m["test_mae"]
    assert [h["epoch"] for h in r.history] == list(range(1, 7))
    assert r.history[-1]["train_loss"] < r.history[0]["train_loss"]
    assert (tmp_path / "forecast.png").read_bytes()[:4] == b"\x89PNG"


def test_split_is_chronological_and_normalisation_uses_train_only(tmp_path):
    recipe = RECIPES["timeseries"]()
    p = RECIPES["timeseries"].Params(horizon=3)
    recipe.setup(p, RunContext(run_dir=tmp_path, device=torch.device("cpu")))
    s = recipe.splits
    assert s["train"].max() + p.horizon < recipe.train_end  # no training target from later years
    assert s["val"].min() + p.horizon >= recipe.train_end and s["val"].max() + p.horizon < recipe.val_end
    assert s["test"].min() + p.horizon >= recipe.val_end
    assert recipe.mean == pytest.approx(recipe.y[: recipe.train_end].mean())
    assert recipe.mean < recipe.y[recipe.val_end :].mean()  # CO2 rises: the test years lie above it
    x, t = recipe.data["train"]
    assert x.shape[1:] == (p.window, 1) and t.shape[1] == 3
    assert torch.all(x[:, -1, 0] == 0)  # windows are shifted so their last value is 0
    recipe.cleanup()


def test_sunspots_multi_step_runs_without_a_seasonal_baseline(tmp_path):
    r = run_recipe("timeseries", tmp_path, series="sunspots", horizon=2, epochs=3)
    assert "seasonal_naive_mae" not in r.metrics
    assert r.metrics["naive_mae"] > 0 and r.metrics["test_mae"] > 0


def test_same_seed_same_metrics(tmp_path):
    a = run_recipe("timeseries", tmp_path / "a", epochs=2, seed=5)
    b = run_recipe("timeseries", tmp_path / "b", epochs=2, seed=5)
    c = run_recipe("timeseries", tmp_path / "c", epochs=2, seed=6)
    assert a.metrics == b.metrics
    assert a.metrics["test_mae"] != c.metrics["test_mae"]


@pytest.mark.parametrize("bad", [{"epochs": 0}, {"epochs": 10**6}, {"lr": -1.0}, {"horizon": 0}, {"series": "gdp"}])
def test_bad_params_rejected(bad):
    with pytest.raises(ValidationError):
        RECIPES["timeseries"].Params(**bad)
