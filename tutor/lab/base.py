"""The contract between a recipe and the runner.

A recipe is one class in ``tutor/lab/recipes/<name>.py`` (torchtune style):
``setup(params, ctx)`` builds data and model, ``train()`` runs the epochs and returns the
final metrics, ``save()`` writes plots/artifacts and returns their paths, ``cleanup()``
frees what it holds. The runner (``tutor/lab/runner.py``) owns everything around it:
the child process, caps, cancellation, seeding, the metrics JSON and the diagnosis.

Recipes report progress only through ``ctx.log_epoch`` / ``ctx.log_step`` so every run
streams, logs to TensorBoard and keeps its history the same way.

What a recipe *is* (name, summary, parameters, which metric leads) lives apart from its training
code, in a ``RecipeCard`` (``tutor/lab/cards/<name>.py``): the launching process lists, describes
and validates recipes from their cards without importing torch; only the run process imports
the recipe module itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

from pydantic import BaseModel, ConfigDict, Field

#: Recipe classes by name; filled when a recipe module is imported (in the run process).
RECIPES: dict[str, type["Recipe"]] = {}
#: Recipe cards by name; filled when a card (or a recipe module) is imported. Light: no torch.
CARDS: dict[str, "RecipeCard"] = {}


def register(cls: type["Recipe"]) -> type["Recipe"]:
    """Class decorator: make a recipe available under ``cls.name`` (and its card, for recipes that
    declare their metadata on the class itself, such as the tests' recipes)."""
    RECIPES[cls.name] = cls
    CARDS.setdefault(cls.name, cls.card if "card" in cls.__dict__ else RecipeCard(
        name=cls.name, summary=cls.summary, Params=cls.Params, module=cls.__module__,
        primary_metric=cls.primary_metric, higher_is_better=cls.higher_is_better,
        chance_accuracy=cls.chance_accuracy,
    ))
    return cls


class RecipeParams(BaseModel):
    """Base of every recipe's parameters: unknown names are errors, bounds are documented."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed for torch, numpy and python's random.")


@dataclass(frozen=True)
class RecipeCard:
    """What a recipe is, without its training code: enough to list, describe, validate and launch it."""

    name: str
    summary: str
    Params: type[RecipeParams]
    module: str  # the module holding the Recipe class; only the run process imports it
    # Which metric the diagnosis and `compare` lead with, and whether higher is better.
    primary_metric: str = "test_accuracy"
    higher_is_better: bool = True
    # Accuracy of guessing (0.1 for ten classes, 0.5 for two); the diagnosis uses it to call a run
    # "underfitting". None for regression recipes.
    chance_accuracy: float | None = None

    def __post_init__(self) -> None:
        CARDS.setdefault(self.name, self)


def pin_roadmap_fields(params: Any, fixed: dict[str, Any], model: str, fixes: str) -> Any:
    """For ``framework="keras"``: refuse any field the roadmap's code fixes, then record its values.

    The Keras path runs the roadmap's snippet as written, so a changed field would silently
    not apply; it is an error instead, and the params show what actually runs.
    """
    if params.framework != "keras":
        return params
    changed = [k for k, v in fixed.items() if k in params.model_fields_set and getattr(params, k) != v]
    if changed:
        raise ValueError(
            f"framework keras runs the roadmap's {model} code exactly as written, so {', '.join(changed)} cannot "
            f"change ({fixes}); use --framework torch for that"
        )
    for key, value in fixed.items():
        object.__setattr__(params, key, value)
    return params


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
    # A recipe sets ``card`` (its RecipeCard); the attributes below are then read from it. A recipe
    # without a card (the tests' ones) sets them itself. The meaning of each is on RecipeCard.
    card: ClassVar[RecipeCard]
    name: ClassVar[str]
    summary: ClassVar[str]
    Params: ClassVar[type[RecipeParams]]
    primary_metric: ClassVar[str] = "test_accuracy"
    higher_is_better: ClassVar[bool] = True
    chance_accuracy: ClassVar[float | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        card = cls.__dict__.get("card")
        if card is not None:
            for attr in ("name", "summary", "Params", "primary_metric", "higher_is_better", "chance_accuracy"):
                setattr(cls, attr, getattr(card, attr))

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
