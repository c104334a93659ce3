"""Quality gates: minimum eval scores, kept apart from the tests.

An eval's score moves with the corpus, the installed library versions (the docs feed is
harvested from them) and the model, so a minimum on it is a release gate, not a unit test.
The minimums live in ``evals/thresholds.toml``, one table per suite::

    [retrieval]
    hybrid_hit_at_5 = 0.86                 # applies whatever the model

    [faithfulness.models."qwen2.5-coder-0.5b"]
    exact_keep_rate = 0.50                 # applies only to this model (overrides the suite's key)

``check(suite, metrics)`` returns one line per metric below its minimum (or not measured at
all); an empty list means the gate passed. ``python -m evals SUITE --thresholds FILE`` prints
those lines and exits non-zero.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tutor.errors import TutorError

THRESHOLDS_PATH = Path(__file__).parent / "thresholds.toml"


def load_thresholds(path: str | Path | None = None) -> dict[str, Any]:
    """Read the thresholds file; a missing or malformed file is a one-line TutorError."""
    path = Path(path) if path is not None else THRESHOLDS_PATH
    if not path.is_file():
        raise TutorError(f"Thresholds file {path} does not exist; pass an existing .toml file.")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TutorError(f"Thresholds file {path} is not valid TOML: {exc}.") from None


def minimums(suite: str, thresholds: Mapping[str, Any], model: str | None = None, source: str = "") -> dict[str, float]:
    """The minimums that apply to ``suite`` (and ``model``): the suite's own keys, then the model's."""
    table = thresholds.get(suite, {})
    if not isinstance(table, Mapping):
        raise TutorError(f"Thresholds {source}: [{suite}] must be a table of metric = minimum.")
    merged: dict[str, Any] = {k: v for k, v in table.items() if k != "models"}
    models = table.get("models", {})
    if not isinstance(models, Mapping):
        raise TutorError(f"Thresholds {source}: [{suite}.models] must hold one table per model.")
    if model is not None:
        per_model = models.get(model, {})
        if not isinstance(per_model, Mapping):
            raise TutorError(f'Thresholds {source}: [{suite}.models."{model}"] must be a table of metric = minimum.')
        merged.update(per_model)
    out: dict[str, float] = {}
    for name, value in merged.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise TutorError(f"Thresholds {source}: {suite}.{name} must be a number, not {value!r}.")
        out[name] = float(value)
    return out


def check(
    suite: str,
    metrics: Mapping[str, Any],
    thresholds_path: str | Path | None = None,
    model: str | None = None,
) -> list[str]:
    """One line per metric of ``suite`` below its minimum, or missing from ``metrics``; [] = pass.

    ``thresholds_path`` defaults to ``evals/thresholds.toml``. ``model`` selects the extra
    minimums under ``[suite.models."<model>"]``, if the file has any for it.
    """
    path = Path(thresholds_path) if thresholds_path is not None else THRESHOLDS_PATH
    mins = minimums(suite, load_thresholds(path), model=model, source=str(path))
    failures: list[str] = []
    for name, minimum in mins.items():
        value = metrics.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            failures.append(f"{suite}.{name} was not measured (minimum {minimum:.3f})")
        elif math.isnan(value) or value < minimum:
            failures.append(f"{suite}.{name} = {value:.3f} is below its minimum {minimum:.3f}")
    return failures
