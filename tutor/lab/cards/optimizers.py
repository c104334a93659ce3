"""The `optimizers` recipe's card: what it is and the parameters it takes (training code: recipes/optimizers.py).

Imports no torch, so listing and validating recipes stays fast in the launching process.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from tutor.lab.base import RecipeCard, RecipeParams

Optimizer = Literal["sgd", "momentum", "rmsprop", "adam"]


class OptimizersParams(RecipeParams):
    problem: Literal["rosenbrock", "ravine"] = Field(
        "rosenbrock", description="Surface: Rosenbrock's curved valley, or a straight ravine 50x steeper across than along."
    )
    optimizers: list[Optimizer] = Field(
        default_factory=lambda: ["sgd", "momentum", "rmsprop", "adam"], min_length=1, max_length=4,
        description="Optimizers to race (any of sgd, momentum, rmsprop, adam).",
    )
    steps: int = Field(1000, ge=1, le=20000, description="Gradient steps per optimizer.")
    threshold: float = Field(1e-2, gt=0.0, le=10.0, description="Loss counted as 'arrived' for steps_to_threshold (the minimum is 0).")
    momentum: float = Field(0.9, ge=0.0, lt=1.0, description="Momentum coefficient of the momentum optimizer.")
    # 0 means "the problem's recommended rate" (a plain number keeps the CLI simple: --lr-adam 0.1).
    lr_sgd: float = Field(0.0, ge=0.0, le=10.0, description="SGD learning rate; 0 = the problem's recommended one (rosenbrock 0.001, ravine 0.035).")
    lr_momentum: float = Field(0.0, ge=0.0, le=10.0, description="Momentum learning rate; 0 = recommended (rosenbrock 0.001, ravine 0.02).")
    lr_rmsprop: float = Field(0.0, ge=0.0, le=10.0, description="RMSprop learning rate; 0 = recommended (rosenbrock 0.01, ravine 0.05).")
    lr_adam: float = Field(0.0, ge=0.0, le=10.0, description="Adam learning rate; 0 = recommended (rosenbrock 0.05, ravine 0.2).")

    @field_validator("optimizers")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))


CARD = RecipeCard(
    name="optimizers",
    summary="Race SGD, momentum, RMSprop and Adam down a 2-D valley and see their paths and speeds.",
    Params=OptimizersParams,
    module="tutor.lab.recipes.optimizers",
    primary_metric="best_final_loss",
    higher_is_better=False,
)
