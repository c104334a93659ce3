"""The `activations` recipe's card: what it is and the parameters it takes (training code: recipes/activations.py).

Imports no torch, so listing and validating recipes stays fast in the launching process.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from tutor.lab.base import RecipeCard, RecipeParams

Activation = Literal["sigmoid", "tanh", "relu", "gelu"]


class ActivationsParams(RecipeParams):
    activations: list[Activation] = Field(
        default_factory=lambda: ["sigmoid", "tanh", "relu", "gelu"],
        min_length=1,
        max_length=4,
        description="Activations to compare (any of sigmoid, tanh, relu, gelu).",
    )
    depth: int = Field(8, ge=1, le=20, description="Hidden layers of the MLP (the deeper, the stronger the effect).")
    width: int = Field(32, ge=4, le=512, description="Units per hidden layer.")
    epochs: int = Field(15, ge=1, le=200, description="Passes over the digits training set.")
    lr: float = Field(0.1, gt=0.0, le=5.0, description="Learning rate.")
    optimizer: Literal["sgd", "adam"] = Field(
        "sgd", description="Plain SGD shows the raw gradients; Adam rescales each weight's step and hides part of the effect."
    )
    batch_size: int = Field(64, ge=1, le=2048, description="Examples per gradient step.")

    @field_validator("activations")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))


CARD = RecipeCard(
    name="activations",
    summary="Train one deep MLP with sigmoid, tanh, ReLU and GELU and watch gradients vanish in the sigmoid net.",
    Params=ActivationsParams,
    module="tutor.lab.recipes.activations",
)
