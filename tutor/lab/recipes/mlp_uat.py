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
from typing import Callable

import torch
from torch import nn

from tutor.lab.base import Recipe, RunContext, register
from tutor.lab.cards.mlp_uat import CARD, MlpUatParams

# Every target lives on [-pi, pi]; the net sees x / pi in [-1, 1] (inputs scaled like any dataset).
_FUNCTIONS: dict[str, tuple[str, Callable[[torch.Tensor], torch.Tensor]]] = {
    "sin": ("sin(2x)", lambda x: torch.sin(2 * x)),
    "abs": ("|x|", lambda x: x.abs()),
    "step": ("step(x)", lambda x: (x > 0).to(x.dtype)),
    "sawtooth": ("sawtooth(x), 3 teeth", lambda x: 2 * torch.frac((x + math.pi) / (2 * math.pi / 3)) - 1),
    "xsin3x": ("x·sin(3x)", lambda x: x * torch.sin(3 * x)),
}


class SideBySide(nn.Module):
    """Several one-hidden-layer MLPs (one per width) packed into one module.

    Mathematically these are independent nets: net k is ``Linear(1, w_k) -> act -> Linear(w_k, 1)``.
    They share one hidden Linear (its units split into blocks, one block per net) and one masked
    output matrix (row k sees only block k), so a single forward/backward/Adam step trains all
    of them at once. Written by hand because it is 4x fewer Python-level steps than a loop over
    separate nets, and since Adam works weight by weight, each net learns exactly as it would alone.
    """

    def __init__(self, widths: list[int], activation: str, seed: int):
        super().__init__()
        self.widths = widths
        hidden_w, hidden_b, out_w, out_b = [], [], [], []
        mask = torch.zeros(len(widths), sum(widths))
        start = 0
        for k, w in enumerate(widths):
            torch.manual_seed(seed + w)  # each net's initial weights depend only on seed and width
            first, second = nn.Linear(1, w), nn.Linear(w, 1)  # PyTorch's usual init, per net
            hidden_w.append(first.weight.data)
            hidden_b.append(first.bias.data)
            row = torch.zeros(sum(widths))
            row[start : start + w] = second.weight.data[0]
            out_w.append(row)
            out_b.append(second.bias.data)
            mask[k, start : start + w] = 1.0
            start += w
        self.hidden = nn.Linear(1, sum(widths))
        with torch.no_grad():
            self.hidden.weight.copy_(torch.cat(hidden_w))
            self.hidden.bias.copy_(torch.cat(hidden_b))
        self.out_weight = nn.Parameter(torch.stack(out_w))
        self.out_bias = nn.Parameter(torch.cat(out_b))
        self.register_buffer("mask", mask)
        self.act = nn.Tanh() if activation == "tanh" else nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1) inputs -> (N, len(widths)) outputs, column k from net k."""
        return self.act(self.hidden(x)) @ (self.out_weight * self.mask).T + self.out_bias


@register
class MlpUatRecipe(Recipe):
    card = CARD

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
        self.widths = list(params.widths)
        self.net = SideBySide(self.widths, params.activation, params.seed).to(ctx.device)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=params.lr)

    def _grid_mse(self) -> dict[int, float]:
        with torch.no_grad():
            errors = ((self.net(self.grid / math.pi) - self.grid_y) ** 2).mean(0)
        return dict(zip(self.widths, errors.tolist()))

    def train(self) -> dict[str, float]:
        p, ctx = self.p, self.ctx
        every = max(1, p.steps // 50)  # ~50 points per curve
        xin = self.x / math.pi
        widest = max(self.widths)
        for step in range(1, p.steps + 1):
            self.opt.zero_grad(set_to_none=True)
            per_width = ((self.net(xin) - self.y) ** 2).mean(0)  # one MSE per net
            # Summing keeps the nets independent: each weight's gradient comes from its own net's MSE.
            per_width.sum().backward()
            self.opt.step()
            if step % every == 0 or step == p.steps:
                losses = dict(zip(self.widths, per_width.tolist()))
                mse = self._grid_mse()
                row = {f"train_loss_width_{w}": v for w, v in losses.items()}
                row.update({f"mse_width_{w}": v for w, v in mse.items()})
                ctx.log_epoch(step, train_loss=losses[widest], val_loss=mse[widest], **row)
                for w in self.widths:
                    ctx.log_series("width_fits", {"step": step, "width": w, "train_loss": losses[w], "mse": mse[w]})
            else:
                ctx.check_cancelled()
        metrics = {f"mse_width_{w}": v for w, v in self._grid_mse().items()}
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
        mses = self._grid_mse()
        with torch.no_grad():
            fits = self.net(self.grid / math.pi).cpu()
        for k, w in enumerate(self.widths):
            ax.plot(grid, fits[:, k], lw=1.4, label=f"width {w} (MSE {mses[w]:.3g})")
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
        self.net = self.opt = None
