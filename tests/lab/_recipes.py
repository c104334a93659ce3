"""Recipes that exist only for the tests: they misbehave on purpose (hang, hog memory, crash,
diverge) so the runner's caps and error handling are exercised for real."""

from __future__ import annotations

import time

import numpy as np
from pydantic import Field

from tutor.lab.base import Recipe, RecipeParams, register


class SleepyParams(RecipeParams):
    epochs: int = Field(5, ge=1, le=1000, description="Epochs, each one `seconds` long.")
    seconds: float = Field(0.2, ge=0, le=60, description="Length of one fake epoch.")


@register
class SleepyRecipe(Recipe):
    """Logs a fake, steadily falling loss curve; checks for cancellation between epochs."""

    name = "test-sleepy"
    summary = "test only: slow fake epochs"
    Params = SleepyParams
    primary_metric = "final_loss"
    higher_is_better = False

    def setup(self, params, ctx):
        self.p, self.ctx = params, ctx

    def train(self):
        for epoch in range(1, self.p.epochs + 1):
            time.sleep(self.p.seconds)
            loss = 1.0 / epoch
            self.ctx.log_epoch(epoch, train_loss=loss, val_loss=loss * 1.1)
        return {"final_loss": 1.0 / self.p.epochs}


class StuckParams(RecipeParams):
    pass


@register
class StuckRecipe(Recipe):
    """Busy forever without ever calling ctx: only a hard kill stops it."""

    name = "test-stuck"
    summary = "test only: never returns, ignores cancellation"
    Params = StuckParams

    def setup(self, params, ctx):
        ctx.log_epoch(1, train_loss=1.0)

    def train(self):
        x = 0
        while True:
            x += 1


class HogParams(RecipeParams):
    step_mb: int = Field(64, ge=1, le=1024, description="Memory added per step.")
    max_mb: int = Field(3000, ge=1, le=8000, description="Stop here even if nobody intervenes.")


@register
class HogRecipe(Recipe):
    """Allocates (and touches) memory step by step until the cap stops it."""

    name = "test-hog"
    summary = "test only: allocates memory until stopped"
    Params = HogParams

    def setup(self, params, ctx):
        self.p, self.ctx = params, ctx
        self.blocks = []

    def train(self):
        for _ in range(self.p.max_mb // self.p.step_mb):
            self.blocks.append(np.ones(self.p.step_mb * 2**20 // 8))  # np.ones touches every page
            time.sleep(0.05)
        return {"test_accuracy": 0.0}


@register
class CrashRecipe(Recipe):
    name = "test-crash"
    summary = "test only: raises in train()"
    Params = StuckParams

    def setup(self, params, ctx):
        ctx.log_epoch(1, train_loss=2.0)

    def train(self):
        raise ValueError("the recipe broke on purpose")
