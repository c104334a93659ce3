"""The contract between a recipe and the runner.

A recipe is one class in ``tutor/lab/recipes/<name>.py`` (torchtune style):
``setup(params, ctx)`` builds data and model, ``train()`` runs the epochs and returns the
final metrics, ``save()`` writes plots/artifacts and returns their paths, ``cleanup()``
frees what it holds. The runner (``tutor/lab/runner.py``) owns everything around it:
the child process, caps, cancellation, seeding, the metrics JSON and the diagnosis.

Recipes report progress only through ``ctx.log_epoch`` / ``ctx.log_step`` so every run
streams, logs to TensorBoard and keeps its history the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

from pydantic import BaseModel, ConfigDict, Field

RECIPES: dict[str, type["Recipe"]] = {}


def register(cls: type["Recipe"]) -> type["Recipe"]:
    """Class decorator: make a recipe available under ``cls.name``."""
    RECIPES[cls.name] = cls
    return cls


class RecipeParams(BaseModel):
    """Base of every recipe's parameters: unknown names are errors, bounds are documented."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed for torch, numpy and python's random.")


class Cancelled(Exception):
    """Raised inside a recipe when the run was cancelled; the runner records it as a result."""


@dataclass
class RunContext:
    """What a recipe gets from the runner."""

    run_dir: Path
    device: Any  # torch.device; typed loosely so this module imports without torch
    emit: Callable[[dict], None] = lambda event: None
    is_cancelled: Callable[[], bool] = lambda: False
    writer: Any = None  # torch.utils.tensorboard.SummaryWriter, or None
    history: list[dict] = field(default_factory=list)
    extras: dict[str, list[dict]] = field(default_factory=dict)

    def check_cancelled(self) -> None:
        if self.is_cancelled():
            raise Cancelled("run cancelled")

    def log_epoch(self, epoch: int, **metrics: float) -> None:
        """One row of the curves: ``ctx.log_epoch(3, train_loss=.2, val_loss=.3, val_accuracy=.9)``."""
        row = {"epoch": int(epoch), **{k: float(v) for k, v in metrics.items()}}
        self.history.append(row)
        if self.writer is not None:
            for key, value in metrics.items():
                self.writer.add_scalar(key.replace("_", "/", 1), float(value), int(epoch))
        self.emit({"type": "epoch", **row})
        self.check_cancelled()

    def log_step(self, step: int, **metrics: float) -> None:
        """Finer progress inside an epoch (streamed and logged, not kept in history)."""
        if self.writer is not None:
            for key, value in metrics.items():
                self.writer.add_scalar("step/" + key, float(value), int(step))
        self.emit({"type": "step", "step": int(step), **{k: float(v) for k, v in metrics.items()}})
        self.check_cancelled()

    def log_series(self, name: str, row: dict) -> None:
        """Extra named series a recipe wants kept (e.g. per-layer gradient norms, per-width fits)."""
        self.extras.setdefault(name, []).append(row)

    # --- additions (compatible: nothing above changed) ---------------------------------
    def log_message(self, message: str) -> None:
        """A short status line for whoever watches the run ("building data", "baseline done")."""
        self.emit({"type": "log", "message": str(message)})

    def artifact_path(self, filename: str) -> Path:
        """Where a recipe writes one artifact: inside the run dir, created on demand."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        return self.run_dir / filename


class Recipe(ABC):
    name: ClassVar[str]
    summary: ClassVar[str]
    Params: ClassVar[type[RecipeParams]]
    # Which metric the diagnosis and `compare` lead with, and whether higher is better.
    primary_metric: ClassVar[str] = "test_accuracy"
    higher_is_better: ClassVar[bool] = True
    # Accuracy of guessing (0.1 for ten classes, 0.5 for two); the diagnosis uses it to
    # call a run "underfitting". None for regression recipes.
    chance_accuracy: ClassVar[float | None] = None

    @abstractmethod
    def setup(self, params: RecipeParams, ctx: RunContext) -> None: ...

    @abstractmethod
    def train(self) -> dict[str, float]:
        """Run the epochs; return final metrics (classification recipes include test_accuracy)."""

    def save(self) -> dict[str, str]:
        """Write plots/artifacts under ctx.run_dir; return {name: path}. Curves are drawn by the runner."""
        return {}

    def cleanup(self) -> None:
        """Free what setup() holds."""
