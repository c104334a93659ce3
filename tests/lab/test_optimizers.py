"""optimizers recipe: SGD, momentum, RMSprop and Adam on 2-D surfaces."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from tests.lab.recipe_driver import run_recipe
from tutor.lab.base import RECIPES


def test_rosenbrock_momentum_and_adam_beat_plain_sgd(tmp_path):
    r = run_recipe("optimizers", tmp_path, steps=400)
    m = r.metrics
    # plain SGD (step limited by the steep walls) crawls along the curved valley floor
    assert m["final_loss_sgd"] > 0.5
    assert m["final_loss_momentum"] < 0.1 * m["final_loss_sgd"]
    assert m["final_loss_adam"] < 0.5 * m["final_loss_sgd"]
    assert m["distance_to_minimum_momentum"] < m["distance_to_minimum_sgd"]
    assert math.isinf(m["steps_to_threshold_sgd"])  # never arrived: null in the run's JSON
    assert m["best_final_loss"] == min(m[f"final_loss_{o}"] for o in ("sgd", "momentum", "rmsprop", "adam"))
    assert {"loss_sgd", "loss_adam"} <= set(r.history[-1]) and r.history[-1]["epoch"] == 400
    assert (tmp_path / "optimizer_paths.png").read_bytes()[:4] == b"\x89PNG"


def test_ravine_everyone_arrives_and_momentum_beats_sgd(tmp_path):
    r = run_recipe("optimizers", tmp_path, problem="ravine", steps=200, threshold=1e-3)
    m = r.metrics
    for o in ("sgd", "momentum", "rmsprop", "adam"):
        assert m[f"steps_to_threshold_{o}"] < 200, o
    assert m["steps_to_threshold_momentum"] < m["steps_to_threshold_sgd"]


def test_too_large_learning_rate_diverges_cleanly(tmp_path):
    r = run_recipe("optimizers", tmp_path, optimizers=["sgd"], lr_sgd=0.05, steps=50)
    assert r.metrics["diverged_sgd"] == 1.0
    assert math.isinf(r.metrics["final_loss_sgd"])


def test_same_seed_same_metrics(tmp_path):
    a = run_recipe("optimizers", tmp_path / "a", steps=50, seed=1)
    b = run_recipe("optimizers", tmp_path / "b", steps=50, seed=1)
    assert a.metrics == b.metrics


@pytest.mark.parametrize(
    "bad", [{"steps": 0}, {"optimizers": ["lbfgs"]}, {"lr_adam": -0.1}, {"momentum": 1.0}, {"problem": "bowl"}]
)
def test_bad_params_rejected(bad):
    with pytest.raises(ValidationError):
        RECIPES["optimizers"].Params(**bad)
