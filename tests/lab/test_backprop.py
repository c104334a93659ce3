"""backprop recipe: hand-derived gradients of a 2-2-1 sigmoid net agree with autograd."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from tests.lab.recipe_driver import run_recipe
from tutor.lab.base import RECIPES
from tutor.lab.recipes.backprop import hand_forward_backward


def test_hand_gradients_match_autograd_every_step(tmp_path):
    r = run_recipe("backprop", tmp_path, steps=5)
    assert r.metrics["max_grad_diff"] < 1e-12  # float64: agreement to rounding error
    rows = r.extras["backprop_steps"]
    assert [row["step"] for row in rows] == [1, 2, 3, 4, 5]
    for row in rows:
        assert len(row["gradients"]) == 9  # 4 + 2 + 2 + 1 parameters
        assert all(g["abs_diff"] < 1e-12 for g in row["gradients"])
        assert set(row["forward"]) == {"z1", "a1", "z2", "y_hat"}
        assert set(row["deltas"]) == {"delta1", "delta2"}
    # gradient descent with the hand gradients lowers the loss
    assert r.metrics["final_loss"] < r.metrics["initial_loss"]
    assert [h["epoch"] for h in r.history] == [1, 2, 3, 4, 5]


def test_hand_gradients_match_finite_differences():
    """An independent referee: central differences of the loss, no autograd involved."""
    g = torch.Generator().manual_seed(3)
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=torch.float64)
    params = [torch.randn(s, generator=g, dtype=torch.float64) for s in [(2, 2), (2,), (1, 2), (1,)]]
    hand = hand_forward_backward(x, y, *params)
    eps = 1e-6
    for i, name in enumerate(["W1", "b1", "W2", "b2"]):
        flat = params[i].reshape(-1)
        for j in range(flat.numel()):
            plus = [p.clone() for p in params]
            minus = [p.clone() for p in params]
            plus[i].view(-1)[j] += eps
            minus[i].view(-1)[j] -= eps
            numeric = (hand_forward_backward(x, y, *plus)["loss"] - hand_forward_backward(x, y, *minus)["loss"]) / (2 * eps)
            assert abs(float(numeric) - float(hand[name].reshape(-1)[j])) < 1e-8


def test_float32_differs_more_than_float64_but_still_agrees(tmp_path):
    r64 = run_recipe("backprop", tmp_path / "a", steps=3)
    r32 = run_recipe("backprop", tmp_path / "b", steps=3, precision="float32")
    assert r64.metrics["max_grad_diff"] < r32.metrics["max_grad_diff"] < 1e-6


def test_learns_xor_with_enough_steps_and_writes_tables(tmp_path):
    r = run_recipe("backprop", tmp_path, steps=200, lr=2.0)
    assert r.metrics["train_accuracy"] == 1.0
    assert r.metrics["max_grad_diff"] < 1e-12
    table = open(r.artifacts["backprop_steps_table"], encoding="utf-8").read()
    assert "| W1[0,0] |" in table and "## Step 200" in table
    steps = json.loads(open(r.artifacts["backprop_steps_json"]).read())
    assert len(steps) == 200


def test_same_seed_same_numbers_and_other_seed_differs(tmp_path):
    a = run_recipe("backprop", tmp_path / "a", seed=7)
    b = run_recipe("backprop", tmp_path / "b", seed=7)
    c = run_recipe("backprop", tmp_path / "c", seed=8)
    assert a.metrics == b.metrics
    assert a.metrics["final_loss"] != c.metrics["final_loss"]


@pytest.mark.parametrize("bad", [{"steps": 0}, {"steps": 10**6}, {"lr": -0.1}, {"task": "nand"}, {"stepz": 3}])
def test_bad_params_rejected(bad):
    with pytest.raises(ValidationError):
        RECIPES["backprop"].Params(**bad)
