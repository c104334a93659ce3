"""The `mlp-uat` recipe's card: what it is and the parameters it takes (training code: recipes/mlp_uat.py).

Imports no torch, so listing and validating recipes stays fast in the launching process.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from tutor.lab.base import RecipeCard, RecipeParams


class MlpUatParams(RecipeParams):
    function: Literal["sin", "abs", "step", "sawtooth", "xsin3x"] = Field(
        "xsin3x", description="Target on [-pi, pi]: sin(2x), |x|, a step, a 3-tooth sawtooth, or x*sin(3x)."
    )
    widths: list[int] = Field(
        default_factory=lambda: [1, 4, 16, 64],
        min_length=1,
        max_length=8,
        description="Hidden-layer widths to train side by side (1 to 1024 units each, up to 8 widths).",
    )
    activation: Literal["tanh", "relu"] = Field("tanh", description="Hidden-unit nonlinearity.")
    steps: int = Field(1500, ge=10, le=20000, description="Full-batch Adam steps per width.")
    lr: float = Field(0.01, gt=0.0, le=1.0, description="Adam learning rate.")
    n_points: int = Field(256, ge=16, le=10000, description="Training points sampled uniformly on [-pi, pi].")
    noise: float = Field(0.0, ge=0.0, le=1.0, description="Std of Gaussian noise added to the training targets.")

    @field_validator("widths")
    @classmethod
    def _widths_in_range(cls, v: list[int]) -> list[int]:
        if any(w < 1 or w > 1024 for w in v):
            raise ValueError("every width must be between 1 and 1024")
        return sorted(set(v))


CARD = RecipeCard(
    name="mlp-uat",
    summary="Fit a 1-D function with one hidden layer of growing width: wider layers approximate it better.",
    Params=MlpUatParams,
    module="tutor.lab.recipes.mlp_uat",
    primary_metric="mse_best",
    higher_is_better=False,
)
