"""The universal approximation theorem, seen: one hidden layer, growing width, shrinking error.

Several one-hidden-layer MLPs (one per width) fit the same 1-D function side by side. A width-1
net can only draw one bend; each extra hidden unit adds another bend, so the fit error falls as
the layer widens. The theorem promises that *some* wide-enough net gets arbitrarily close; the
run also shows what it does not promise: gradient descent still has to find those weights, and
discontinuities (the step) stay hard for any finite width.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Literal

import torch
from pydantic import Field, field_validator
from torch import nn

from tutor.lab.base import Recipe, RecipeParams, RunContext, register

# Every target lives on [-pi, pi]; the net sees x / pi in [-1, 1] (inputs scaled like any dataset).
_FUNCTIONS: dict[str, tuple[str, Callable[[torch.Tensor], torch.Tensor]]] = {
    "sin": ("sin(2x)", lambda x: torch.sin(2 * x)),
    "abs": ("|x|", lambda x: x.abs()),
    "step": ("step(x)", lambda x: (x > 0).to(x.dtype)),
    "sawtooth": ("sawtooth(x), 3 teeth", lambda x: 2 * torch.frac((x + math.pi) / (2 * math.pi / 3)) - 1),
    "xsin3x": ("x·sin(3x)", lambda x: x * torch.sin(3 * x)),
}


class MlpUatParams(RecipeParams):
    function: Literal["sin", "abs", "step", "sawtooth", "xsin3x"] = Field(
        "xsin3x", description="Target on [-pi, pi]: sin(2x), |x|, a step, a 3-tooth sawtooth, or x*sin(3x)."
    )
    widths: list[int] = Field(
        default_factory=lambda: [1, 4, 16, 64],
        min_length=1,
        max_length=8,
        description="Hidden-layer widths to train side by side (1 to 1024 units each, up to 8 widths).",
    )
    activation: Literal["tanh", "relu"] = Field("tanh", description="Hidden-unit nonlinearity.")
    steps: int = Field(1500, ge=10, le=20000, description="Full-batch Adam steps per width.")
    lr: float = Field(0.01, gt=0.0, le=1.0, description="Adam learning rate.")
    n_points: int = Field(256, ge=16, le=10000, description="Training points sampled uniformly on [-pi, pi].")
    noise: float = Field(0.0, ge=0.0, le=1.0, description="Std of Gaussian noise added to the training targets.")

    @field_validator("widths")
    @classmethod
    def _widths_in_range(cls, v: list[int]) -> list[int]:
        if any(w < 1 or w > 1024 for w in v):
            raise ValueError("every width must be between 1 and 1024")
        return sorted(set(v))


def _mlp(width: int, activation: str) -> nn.Module:
    act = nn.Tanh() if activation == "tanh" else nn.ReLU()
    return nn.Sequential(nn.Linear(1, width), act, nn.Linear(width, 1))


@register
class MlpUatRecipe(Recipe):
    name = "mlp-uat"
    summary = "Fit a 1-D function with one hidden layer of growing width: wider layers approximate it better."
    Params = MlpUatParams
    primary_metric = "mse_best"
    higher_is_better = False

    def setup(self, params: MlpUatParams, ctx: RunContext) -> None:
        self.p, self.ctx = params, ctx
        label, fn = _FUNCTIONS[params.function]
        self.label = label
        g = torch.Generator().manual_seed(params.seed)
        x = (torch.rand(params.n_points, 1, generator=g) * 2 - 1) * math.pi
        y = fn(x) + params.noise * torch.randn(x.shape, generator=g)
        # The error is measured on a dense grid, not the training points: "how close is the
        # function", which is what the theorem talks about.
        grid = torch.linspace(-math.pi, math.pi, 1000).unsqueeze(1)
        self.x, self.y = x.to(ctx.device), y.to(ctx.device)
        self.grid, self.grid_y = grid.to(ctx.device), fn(grid).to(ctx.device)
        self.models: dict[int, nn.Module] = {}
        for w in params.widths:
            torch.manual_seed(params.seed + w)  # each width's init depends only on seed and width
            self.models[w] = _mlp(w, params.activation).to(ctx.device)
        self.opts = {w: torch.optim.Adam(m.parameters(), lr=params.lr) for w, m in self.models.items()}

    def _grid_mse(self, w: int) -> float:
        with torch.no_grad():
            return float(((self.models[w](self.grid / math.pi) - self.grid_y) ** 2).mean())

    def train(self) -> dict[str, float]:
        p, ctx = self.p, self.ctx
        every = max(1, p.steps // 50)  # ~50 points per curve
        xin = self.x / math.pi
        for step in range(1, p.steps + 1):
            losses = {}
            # All widths step in lockstep so one history row holds every width's progress.
            for w, model in self.models.items():
                opt = self.opts[w]
                opt.zero_grad(set_to_none=True)
                loss = ((model(xin) - self.y) ** 2).mean()
                loss.backward()
                opt.step()
                losses[w] = loss.item()
            if step % every == 0 or step == p.steps:
                row = {f"train_loss_width_{w}": v for w, v in losses.items()}
                row.update({f"mse_width_{w}": self._grid_mse(w) for w in self.models})
                widest = max(self.models)
                ctx.log_epoch(step, train_loss=losses[widest], val_loss=row[f"mse_width_{widest}"], **row)
                for w in self.models:
                    ctx.log_series("width_fits", {"step": step, "width": w, "train_loss": losses[w], "mse": row[f"mse_width_{w}"]})
            else:
                ctx.check_cancelled()
        metrics = {f"mse_width_{w}": self._grid_mse(w) for w in self.models}
        metrics["mse_best"] = min(metrics.values())
        metrics["target_variance"] = float(self.grid_y.var(unbiased=False))
        return metrics

    def save(self) -> dict[str, str]:
        from tutor.lab.plots import new_figure, save_figure

        grid = self.grid.cpu().squeeze(1)
        fig = new_figure(11, 4.2)
        ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
        ax.scatter(self.x.cpu().squeeze(1), self.y.cpu().squeeze(1), s=6, c="lightgray", label="training points")
        ax.plot(grid, self.grid_y.cpu().squeeze(1), "k--", lw=1.5, label=f"target {self.label}")
        mses = {}
        with torch.no_grad():
            for w, model in self.models.items():
                mses[w] = self._grid_mse(w)
                ax.plot(grid, model(self.grid / math.pi).cpu().squeeze(1), lw=1.4, label=f"width {w} (MSE {mses[w]:.3g})")
        ax.set_title(f"One hidden layer ({self.p.activation}) fitting {self.label}")
        ax.set_xlabel("x")
        ax.legend(fontsize=8)
        ax2.loglog(list(mses), [max(v, 1e-12) for v in mses.values()], "o-")
        ax2.set_xticks(list(mses), [str(w) for w in mses])
        ax2.minorticks_off()
        ax2.set_xlabel("hidden width")
        ax2.set_ylabel("MSE on a dense grid")
        ax2.set_title("Error vs width")
        ax2.grid(True, which="both", alpha=0.3)
        return {"fits": save_figure(fig, Path(self.ctx.run_dir) / "uat_fits.png")}

    def cleanup(self) -> None:
        self.models, self.opts = {}, {}
