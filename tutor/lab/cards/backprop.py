"""The `backprop` recipe's card: what it is and the parameters it takes (training code: recipes/backprop.py).

Imports no torch, so listing and validating recipes stays fast in the launching process.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tutor.lab.base import RecipeCard, RecipeParams


class BackpropParams(RecipeParams):
    steps: int = Field(5, ge=1, le=200, description="Gradient-descent steps, each checked against autograd.")
    lr: float = Field(1.0, gt=0.0, le=10.0, description="Learning rate of plain gradient descent.")
    task: Literal["xor", "and", "or"] = Field("xor", description="Truth table the 2-2-1 network learns.")
    precision: Literal["float64", "float32"] = Field(
        "float64",
        description="Number type; float64 makes hand and autograd agree to ~1e-16, float32 to ~1e-8.",
    )


CARD = RecipeCard(
    name="backprop",
    summary="Compute a tiny network's gradients by hand with the chain rule and check them against autograd.",
    Params=BackpropParams,
    module="tutor.lab.recipes.backprop",
    primary_metric="max_grad_diff",
    higher_is_better=False,
)
