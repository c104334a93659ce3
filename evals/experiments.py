"""The experiments suite: does each lab recipe meet its bar, and is it reproducible?

    tutor eval experiments                      # every recipe below, short settings, twice each
    tutor eval experiments --recipes backprop optimizers

Each recipe runs in this process the way the lab runner runs it (seeded torch/numpy/random,
``setup`` -> ``train`` -> ``save`` -> ``cleanup`` in a scratch run dir, one CPU thread), at short
settings so the suite stays in minutes, twice with the same seed. Per recipe:

- ``meets_bar``: its bar holds (the same claims the recipe's tests make, e.g. backprop's
  hand-written gradients agree with autograd to 1e-12, momentum beats SGD on the ravine);
- ``reproducible``: both runs give the same metrics, exactly.

Scores: ``bar_rate`` and ``reproducible_rate`` over the recipes run.
"""

from __future__ import annotations

import math
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evals.common import EvalRun, apply_model_options, parser, rate

# recipe -> (short params, the bar as a description and a predicate on the metrics).
# The numbers are the recipes' own test claims (tests/lab/), kept at the same short settings.
BARS: dict[str, tuple[dict[str, Any], str, Callable[[dict], bool]]] = {
    "backprop": ({"steps": 5}, "max_grad_diff < 1e-12 and the loss falls",
                 lambda m: m["max_grad_diff"] < 1e-12 and m["final_loss"] < m["initial_loss"]),
    "optimizers": ({"steps": 400}, "momentum < 0.1 x SGD and Adam < 0.5 x SGD final loss",
                   lambda m: m["final_loss_momentum"] < 0.1 * m["final_loss_sgd"]
                   and m["final_loss_adam"] < 0.5 * m["final_loss_sgd"]),
    "mlp-uat": ({"function": "sin", "steps": 200, "lr": 0.05, "widths": [1, 4, 32]},
                "wider is better: mse(1) > mse(4) > mse(32), mse(32) < 0.1 x mse(1)",
                lambda m: m["mse_width_1"] > m["mse_width_4"] > m["mse_width_32"]
                and m["mse_width_32"] < 0.1 * m["mse_width_1"]),
    "activations": ({"epochs": 3}, "sigmoid vanishes (grad ratio < 1e-3), ReLU learns (accuracy > 0.45)",
                    lambda m: m["grad_ratio_sigmoid"] < 1e-3 and m["test_accuracy_relu"] > 0.45),
}


def run_recipe(kind: str, params: dict[str, Any], run_dir: Path) -> dict[str, float]:
    """One run of ``kind`` in this process, seeded as the runner seeds it; its metrics."""
    import numpy as np
    import torch

    import tutor.lab.recipes  # noqa: F401  (registers every recipe)
    from tutor.lab.base import RECIPES, RunContext

    torch.set_num_threads(1)  # tiny nets: one thread is fastest on a shared CPU
    cls = RECIPES[kind]
    p = cls.Params(**params)
    random.seed(p.seed)
    np.random.seed(p.seed)
    torch.manual_seed(p.seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    ctx = RunContext(run_dir=run_dir, device=torch.device("cpu"))
    recipe = cls()
    recipe.setup(p, ctx)
    try:
        metrics = recipe.train()
        recipe.save()
    finally:
        recipe.cleanup()
    return {k: float(v) for k, v in metrics.items()}


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a)


def main(argv: list[str] | None = None) -> int:
    p = parser("experiments", __doc__.splitlines()[0])
    p.add_argument("--recipes", nargs="+", choices=list(BARS), default=list(BARS))
    p.add_argument("--repeats", type=int, default=2, help="Runs per recipe with the same seed (default 2).")
    args = p.parse_args(argv)
    apply_model_options(args)
    run = EvalRun("experiments", args, model="lab recipes (CPU)", dataset=None)
    run.adapter = None

    def one(kind: str) -> dict:
        params, bar, ok = BARS[kind]
        with tempfile.TemporaryDirectory(prefix=f"tutor-eval-{kind}-") as tmp:
            t0 = time.perf_counter()
            results = [run_recipe(kind, params, Path(tmp) / str(i)) for i in range(max(1, args.repeats))]
            secs = time.perf_counter() - t0
        meets = ok(results[0])
        return {"id": kind, "params": params, "bar": bar, "meets_bar": meets,
                "reproducible": all(_same(results[0], r) for r in results[1:]) if len(results) > 1 else None,
                "metrics": results[0], "seconds": round(secs, 1)}

    run.score(args.recipes[: args.limit], one, desc="experiments")
    metrics = {"bar_rate": rate(i["meets_bar"] for i in run.items),
               "reproducible_rate": rate(i["reproducible"] for i in run.items if i["reproducible"] is not None)}
    from evals.report import markdown_table

    table = markdown_table(["recipe", "bar", "meets bar", "reproducible", "s"],
                           [[i["id"], i["bar"], i["meets_bar"], i["reproducible"], i["seconds"]] for i in run.items])
    return run.finish(metrics, table=table)


if __name__ == "__main__":
    from evals.report import run_cli

    run_cli(main)
