"""Run a lab recipe in this process, the way the runner does (seed, setup, train, save, cleanup).

The runner (tutor/lab/runner.py) runs recipes in a child process with caps; these recipe tests
drive the recipe directly so they stay fast and show a recipe's own failures plainly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from tutor.lab.base import RECIPES, RunContext
import tutor.lab.recipes  # noqa: F401  (registers every recipe)


@dataclass
class DriverResult:
    metrics: dict[str, float]
    history: list[dict]
    extras: dict[str, list[dict]]
    artifacts: dict[str, str]
    events: list[dict] = field(default_factory=list)


def run_recipe(kind: str, run_dir: Path, **params) -> DriverResult:
    """Validate ``params`` with the recipe's Params, seed like the runner, and run it on CPU."""
    # One intra-op thread: these nets are tiny, and on a shared 2-core box two OpenMP threads
    # spin against each other (measured ~20x slower per step under load).
    torch.set_num_threads(1)
    cls = RECIPES[kind]
    p = cls.Params(**params)
    random.seed(p.seed)
    np.random.seed(p.seed)
    torch.manual_seed(p.seed)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    events: list[dict] = []
    ctx = RunContext(run_dir=run_dir, device=torch.device("cpu"), emit=events.append)
    recipe = cls()
    recipe.setup(p, ctx)
    try:
        metrics = recipe.train()
        artifacts = recipe.save()
    finally:
        recipe.cleanup()
    return DriverResult(metrics, ctx.history, ctx.extras, artifacts, events)
