"""Run A vs run B: what was different (params), what came out different (metrics), both curves on one plot."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tutor.config import Settings
from tutor.lab.runs import load_run, runs_dir

# Metrics where a smaller number is better, whatever the recipe's primary metric says.
LOWER_IS_BETTER_SUFFIXES = ("loss", "error", "mse", "mae", "rmse", "seconds", "duration_s")


def _lower_is_better(name: str, primary: str, primary_higher: bool) -> bool | None:
    if name == primary:
        return not primary_higher
    if name.endswith(LOWER_IS_BETTER_SUFFIXES):
        return True
    if "accuracy" in name or name.endswith(("r2", "f1")):
        return False
    return None  # no direction known (parameter counts, gains...): report the change only


def compare_runs(run_a: str, run_b: str, settings: Settings | None = None, plot: bool = True) -> dict[str, Any]:
    """A structured comparison; ``plot`` also writes the overlaid curves PNG."""
    a, b = load_run(run_a, settings), load_run(run_b, settings)
    primary = a.get("primary_metric", "test_accuracy")
    higher = bool(a.get("higher_is_better", True))

    params_a, params_b = a.get("params") or {}, b.get("params") or {}
    params_diff = {
        key: {"a": params_a.get(key), "b": params_b.get(key)}
        for key in sorted(set(params_a) | set(params_b))
        if params_a.get(key) != params_b.get(key)
    }
    metrics_a, metrics_b = a.get("metrics") or {}, b.get("metrics") or {}
    metrics_diff: dict[str, dict[str, Any]] = {}
    for key in sorted(set(metrics_a) | set(metrics_b)):
        va, vb = metrics_a.get(key), metrics_b.get(key)
        entry: dict[str, Any] = {"a": va, "b": vb}
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and math.isfinite(va) and math.isfinite(vb):
            entry["delta"] = vb - va
            lower = _lower_is_better(key, primary, higher)
            if lower is not None:
                entry["better"] = "same" if va == vb else ("b" if (vb < va) == lower else "a")
        metrics_diff[key] = entry

    winner = metrics_diff.get(primary, {}).get("better")
    result: dict[str, Any] = {
        "a": a["run_id"], "b": b["run_id"], "kind_a": a.get("kind"), "kind_b": b.get("kind"),
        "status_a": a.get("status"), "status_b": b.get("status"),
        "primary_metric": primary, "higher_is_better": higher, "winner": winner,
        "params_diff": params_diff, "metrics_diff": metrics_diff,
        "verdicts": {"a": (a.get("diagnosis") or {}).get("verdict"), "b": (b.get("diagnosis") or {}).get("verdict")},
        "summary": _summary(a, b, primary, higher, params_diff, metrics_diff),
    }
    if plot:
        from tutor.lab.plots import plot_overlay

        out = runs_dir(settings) / "compare" / f"{a['run_id']}__vs__{b['run_id']}.png"
        result["plot"] = plot_overlay(a.get("history") or [], b.get("history") or [], out,
                                      labels=("A", "B"), title=f"A = {a['run_id']}   B = {b['run_id']}")
    if a.get("kind") != b.get("kind"):
        result["warning"] = f"these runs are different experiments ({a.get('kind')} vs {b.get('kind')})"
    return result


def _summary(a, b, primary, higher, params_diff, metrics_diff) -> str:
    changed = ", ".join(f"{k} {v['a']} -> {v['b']}" for k, v in params_diff.items() if k != "seed")
    if "seed" in params_diff:
        changed = (changed + ", " if changed else "") + "seed"
    entry = metrics_diff.get(primary, {})
    if "delta" not in entry:
        return f"B differs from A in: {changed or 'nothing'}; {primary} is missing from one of them."
    va, vb = entry["a"], entry["b"]
    if entry.get("better") == "same":
        outcome = f"{primary} is the same ({va:.4g})"
    else:
        outcome = f"{primary} went from {va:.4g} to {vb:.4g}, so {'B' if entry.get('better') == 'b' else 'A'} is better"
    return f"B differs from A in: {changed or 'nothing'}. {outcome}."


def default_plot_dir(settings: Settings | None = None) -> Path:
    return runs_dir(settings) / "compare"
