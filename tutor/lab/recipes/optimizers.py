"""Optimizers on a surface you can see: SGD, momentum, RMSprop and Adam race down a 2-D valley.

A neural net's loss lives in millions of dimensions, but its troubles already show in two:
a long, narrow, curved valley (the Rosenbrock "banana") or a straight but badly scaled one
(the ravine). Plain SGD must keep its step small enough for the steep walls, so it crawls
along the flat floor; momentum accumulates speed along the floor; RMSprop and Adam divide each
coordinate's step by its recent gradient size, so steep and flat directions move at similar
speeds. Every optimizer starts from the same point; the trajectory plot shows the paths, the
curves show the loss per step.

Each optimizer gets its own learning rate (defaults chosen per problem to be about the largest
that does not blow up): comparing them all at one rate would mostly measure which one that
rate happens to suit.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from tutor.lab.base import Recipe, RunContext, register
from tutor.lab.cards.optimizers import CARD, OptimizersParams


def rosenbrock(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def ravine(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # 50x steeper across (y) than along (x): condition number 50, minimum 0 at (0, 0).
    return 0.5 * (x**2 + 50 * y**2)


# name: (function, start, minimum, plot box (xmin, xmax, ymin, ymax), recommended lr per optimizer)
_PROBLEMS: dict[str, tuple[Callable, tuple[float, float], tuple[float, float], tuple[float, float, float, float], dict[str, float]]] = {
    "rosenbrock": (rosenbrock, (-1.2, 1.0), (1.0, 1.0), (-2.0, 2.0, -1.0, 3.0),
                   {"sgd": 1e-3, "momentum": 1e-3, "rmsprop": 1e-2, "adam": 5e-2}),
    "ravine": (ravine, (-4.0, 1.0), (0.0, 0.0), (-4.5, 1.5, -1.5, 1.5),
               {"sgd": 0.035, "momentum": 0.02, "rmsprop": 0.05, "adam": 0.2}),
}


def _make(name: str, params: list[torch.Tensor], lr: float, momentum: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr)


@register
class OptimizersRecipe(Recipe):
    card = CARD

    def setup(self, params: OptimizersParams, ctx: RunContext) -> None:
        self.p, self.ctx = params, ctx
        self.fn, self.start, self.minimum, self.box, recommended = _PROBLEMS[params.problem]
        self.lrs = {o: getattr(params, f"lr_{o}") or recommended[o] for o in params.optimizers}
        # float64 on the CPU: two numbers per step gain nothing from an accelerator, and the
        # small losses near the minimum need the precision.
        self.points = {o: torch.tensor(self.start, dtype=torch.float64, requires_grad=True) for o in params.optimizers}
        self.opts = {o: _make(o, [self.points[o]], self.lrs[o], params.momentum) for o in params.optimizers}
        self.paths: dict[str, list[tuple[float, float]]] = {o: [self.start] for o in params.optimizers}
        self.losses: dict[str, list[float]] = {o: [] for o in params.optimizers}

    def train(self) -> dict[str, float]:
        p, ctx = self.p, self.ctx
        reached: dict[str, float] = {o: math.inf for o in p.optimizers}  # inf = never (null in the JSON)
        diverged: set[str] = set()
        every = max(1, p.steps // 100)
        for step in range(1, p.steps + 1):
            row = {}
            for o in p.optimizers:
                if o in diverged:
                    continue
                point, opt = self.points[o], self.opts[o]
                opt.zero_grad(set_to_none=True)
                loss = self.fn(point[0], point[1])
                loss.backward()
                opt.step()
                value = loss.item()  # the loss at the point the step started from
                self.losses[o].append(value)
                self.paths[o].append(tuple(point.detach().tolist()))
                if value <= p.threshold and math.isinf(reached[o]):
                    reached[o] = float(step - 1)  # steps taken to reach a point this good
                if not math.isfinite(value) or value > 1e12:
                    diverged.add(o)  # too large a learning rate: the point flew off the surface
                row[f"loss_{o}"] = value
            if step % every == 0 or step == p.steps:
                ctx.log_epoch(step, **row)
            else:
                ctx.check_cancelled()

        metrics: dict[str, float] = {}
        for o in p.optimizers:
            x, y = self.points[o].detach().tolist()
            final = float(self.fn(torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)))
            if o in diverged or not math.isfinite(final):
                final = math.inf
            if math.isinf(reached[o]) and final <= p.threshold:
                reached[o] = float(p.steps)
            metrics[f"final_loss_{o}"] = final
            metrics[f"steps_to_threshold_{o}"] = reached[o]
            metrics[f"distance_to_minimum_{o}"] = math.dist((x, y), self.minimum) if math.isfinite(final) else math.inf
            metrics[f"lr_{o}"] = self.lrs[o]
            metrics[f"diverged_{o}"] = float(o in diverged)
        metrics["best_final_loss"] = min(metrics[f"final_loss_{o}"] for o in p.optimizers)
        return metrics

    def save(self) -> dict[str, str]:
        if not any(self.losses.values()):
            return {}
        from tutor.lab.plots import new_figure, save_figure

        fig = new_figure(12, 4.6)
        ax, ax2 = fig.subplots(1, 2)
        x0, x1, y0, y1 = self.box
        gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
        gz = self.fn(torch.tensor(gx), torch.tensor(gy)).numpy()
        levels = np.logspace(math.log10(max(gz.min(), 1e-3)), math.log10(gz.max()), 25)
        ax.contour(gx, gy, gz, levels=levels, cmap="viridis", alpha=0.6, linewidths=0.7)
        for o, path in self.paths.items():
            pts = np.array(path)
            keep = np.all(np.isfinite(pts), axis=1)
            pts = pts[keep]
            (line,) = ax.plot(pts[:, 0], pts[:, 1], "-", lw=1.2, label=f"{o} (lr {self.lrs[o]:g})")
            ax.plot(pts[-1, 0], pts[-1, 1], "o", color=line.get_color(), ms=5)
        ax.plot(*self.start, "ks", ms=6, label="start")
        ax.plot(*self.minimum, "k*", ms=12, label="minimum")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_title(f"{self.p.problem}: paths over {self.p.steps} steps")
        ax.legend(fontsize=8, loc="best")
        for o, losses in self.losses.items():
            ax2.semilogy(np.arange(len(losses)), np.maximum(losses, 1e-16), label=o)
        ax2.axhline(self.p.threshold, color="gray", ls=":", lw=1, label=f"threshold {self.p.threshold:g}")
        ax2.set_xlabel("step")
        ax2.set_ylabel("loss (log scale)")
        ax2.set_title("Loss per step")
        ax2.legend(fontsize=8)
        return {"trajectories": save_figure(fig, Path(self.ctx.run_dir) / "optimizer_paths.png")}

    def cleanup(self) -> None:
        self.opts, self.points = {}, {}
