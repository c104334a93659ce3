"""Backpropagation by hand: a 2-2-1 sigmoid network whose gradients we derive with the chain
rule, step by step, and check against PyTorch's autograd at every gradient-descent step.

Network (one row per example, N examples):

    z1 = x @ W1.T + b1        hidden pre-activation   (N, 2)
    a1 = sigmoid(z1)          hidden activation        (N, 2)
    z2 = a1 @ W2.T + b2       output pre-activation    (N, 1)
    y_hat = sigmoid(z2)       prediction               (N, 1)
    L = mean((y_hat - y)^2)   mean squared error       scalar

The gradients are written out by hand on purpose: the point of the recipe is to *see*
the chain rule, so no library call stands in for it. Autograd is only the referee.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tutor.lab.base import Recipe, RunContext, register
from tutor.lab.cards.backprop import CARD, BackpropParams

# The four rows of each truth table; the tiny net learns one of them.
_INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
_TARGETS = {
    "xor": [0.0, 1.0, 1.0, 0.0],
    "and": [0.0, 0.0, 0.0, 1.0],
    "or": [0.0, 1.0, 1.0, 1.0],
}
_PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _sigmoid(z: torch.Tensor) -> torch.Tensor:
    return 1.0 / (1.0 + torch.exp(-z))


def hand_forward_backward(x, y, W1, b1, W2, b2) -> dict[str, torch.Tensor]:
    """One forward and backward pass, every intermediate kept so a learner can read it."""
    n = x.shape[0]
    # ---- forward ----
    z1 = x @ W1.T + b1
    a1 = _sigmoid(z1)
    z2 = a1 @ W2.T + b2
    y_hat = _sigmoid(z2)
    loss = ((y_hat - y) ** 2).mean()

    # ---- backward: walk the chain rule from the loss back to every weight ----
    # dL/dy_hat: derivative of the mean of squares; the 1/N comes from the mean.
    dL_dyhat = 2.0 * (y_hat - y) / n
    # sigmoid'(z) = sigmoid(z) * (1 - sigmoid(z)); delta2 is dL/dz2 (the output "error signal").
    delta2 = dL_dyhat * y_hat * (1.0 - y_hat)
    # z2 = a1 W2^T + b2, so dL/dW2 = delta2^T a1 and dL/db2 sums delta2 over the examples.
    dW2 = delta2.T @ a1
    db2 = delta2.sum(dim=0)
    # The error flows back through W2 to each hidden unit, then through that unit's sigmoid.
    dL_da1 = delta2 @ W2
    delta1 = dL_da1 * a1 * (1.0 - a1)
    # z1 = x W1^T + b1: same pattern one layer down.
    dW1 = delta1.T @ x
    db1 = delta1.sum(dim=0)
    return {
        "z1": z1, "a1": a1, "z2": z2, "y_hat": y_hat, "loss": loss,
        "delta2": delta2, "delta1": delta1,
        "W1": dW1, "b1": db1, "W2": dW2, "b2": db2,
    }


def autograd_gradients(x, y, params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The referee: the same loss built from leaf tensors, differentiated by autograd."""
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    a1 = torch.sigmoid(x @ leaves["W1"].T + leaves["b1"])
    y_hat = torch.sigmoid(a1 @ leaves["W2"].T + leaves["b2"])
    loss = torch.nn.functional.mse_loss(y_hat, y)
    loss.backward()
    return {k: v.grad.detach() for k, v in leaves.items()}


def _flat(name: str, t: torch.Tensor) -> list[tuple[str, float]]:
    """Label each entry like W1[0,1] so a table row names one weight."""
    if t.dim() == 1:
        return [(f"{name}[{i}]", float(v)) for i, v in enumerate(t.tolist())]
    return [(f"{name}[{i},{j}]", float(v)) for i, row in enumerate(t.tolist()) for j, v in enumerate(row)]


def _rows(t: torch.Tensor) -> list:
    return [[round(float(v), 10) for v in row] for row in t.tolist()]


@register
class BackpropRecipe(Recipe):
    card = CARD

    def setup(self, params: BackpropParams, ctx: RunContext) -> None:
        self.p, self.ctx = params, ctx
        dtype = torch.float64 if params.precision == "float64" else torch.float32
        # Kept on the CPU: four examples gain nothing from an accelerator, and float64 is slow there.
        self.x = torch.tensor(_INPUTS, dtype=dtype)
        self.y = torch.tensor(_TARGETS[params.task], dtype=dtype).unsqueeze(1)
        g = torch.Generator().manual_seed(params.seed)
        # Small random weights: large enough to break the symmetry between the two hidden units.
        self.params = {
            "W1": torch.randn(2, 2, generator=g, dtype=torch.float64).to(dtype),
            "b1": torch.randn(2, generator=g, dtype=torch.float64).to(dtype) * 0.1,
            "W2": torch.randn(1, 2, generator=g, dtype=torch.float64).to(dtype),
            "b2": torch.randn(1, generator=g, dtype=torch.float64).to(dtype) * 0.1,
        }
        self.steps: list[dict] = []

    def train(self) -> dict[str, float]:
        max_diff_all = 0.0
        first_loss = last_loss = float("nan")
        for step in range(1, self.p.steps + 1):
            hand = hand_forward_backward(self.x, self.y, *(self.params[k] for k in _PARAM_NAMES))
            auto = autograd_gradients(self.x, self.y, self.params)
            grads = []
            for name in _PARAM_NAMES:
                for (label, h), (_, a) in zip(_flat(name, hand[name]), _flat(name, auto[name])):
                    grads.append({"param": label, "hand": h, "autograd": a, "abs_diff": abs(h - a)})
            max_diff = max(g["abs_diff"] for g in grads)
            max_diff_all = max(max_diff_all, max_diff)
            loss = float(hand["loss"])
            first_loss = loss if step == 1 else first_loss
            last_loss = loss
            row = {
                "step": step,
                "loss": loss,
                "weights": {k: _rows(v.reshape(v.shape[0], -1)) for k, v in self.params.items()},
                "forward": {k: _rows(hand[k]) for k in ("z1", "a1", "z2", "y_hat")},
                "deltas": {"delta2": _rows(hand["delta2"]), "delta1": _rows(hand["delta1"])},
                "gradients": grads,
                "max_abs_diff": max_diff,
            }
            self.steps.append(row)
            self.ctx.log_series("backprop_steps", row)
            self.ctx.log_epoch(step, train_loss=loss, max_grad_diff=max_diff)
            # Gradient descent with the hand-computed gradients (autograd only checked them).
            for k in _PARAM_NAMES:
                self.params[k] = self.params[k] - self.p.lr * hand[k]
        # The loss after the last update, so "final" means after all the steps.
        final = float(hand_forward_backward(self.x, self.y, *(self.params[k] for k in _PARAM_NAMES))["loss"])
        preds = _sigmoid(_sigmoid(self.x @ self.params["W1"].T + self.params["b1"]) @ self.params["W2"].T + self.params["b2"])
        return {
            "max_grad_diff": max_diff_all,
            "initial_loss": first_loss,
            "last_step_loss": last_loss,
            "final_loss": final,
            "train_accuracy": float(((preds > 0.5).to(self.y.dtype) == self.y).float().mean()),
        }

    def save(self) -> dict[str, str]:
        run_dir = Path(self.ctx.run_dir)
        json_path = run_dir / "backprop_steps.json"
        json_path.write_text(json.dumps(self.steps, indent=1))
        md_path = run_dir / "backprop_steps.md"
        md_path.write_text(self._markdown())
        return {"backprop_steps_json": str(json_path), "backprop_steps_table": str(md_path)}

    def _markdown(self) -> str:
        p = self.p
        lines = [
            f"# Backpropagation by hand: 2-2-1 sigmoid network on {p.task.upper()} ({p.precision})",
            "",
            "Forward: z1 = x W1ᵀ + b1, a1 = σ(z1), z2 = a1 W2ᵀ + b2, ŷ = σ(z2), L = mean((ŷ − y)²).",
            "Backward: δ2 = 2(ŷ − y)/N · ŷ(1 − ŷ); ∂L/∂W2 = δ2ᵀ a1; ∂L/∂b2 = Σ δ2;",
            "δ1 = (δ2 W2) · a1(1 − a1); ∂L/∂W1 = δ1ᵀ x; ∂L/∂b1 = Σ δ1.",
            f"Update: w ← w − {p.lr} · ∂L/∂w.",
            "",
        ]
        for row in self.steps:
            lines += [f"## Step {row['step']}: loss {row['loss']:.6f}", "", "| x | y | a1 (hidden) | ŷ | δ2 | δ1 |", "|---|---|---|---|---|---|"]
            fw, de = row["forward"], row["deltas"]
            for i, x in enumerate(_INPUTS):
                a1 = ", ".join(f"{v:.4f}" for v in fw["a1"][i])
                d1 = ", ".join(f"{v:.2e}" for v in de["delta1"][i])
                lines.append(
                    f"| {x[0]:.0f}, {x[1]:.0f} | {_TARGETS[p.task][i]:.0f} | {a1} | {fw['y_hat'][i][0]:.4f} "
                    f"| {de['delta2'][i][0]:.2e} | {d1} |"
                )
            lines += ["", "| weight | by hand | autograd | abs diff |", "|---|---|---|---|"]
            for g in row["gradients"]:
                lines.append(f"| {g['param']} | {g['hand']:.10f} | {g['autograd']:.10f} | {g['abs_diff']:.1e} |")
            lines += ["", f"Largest difference this step: {row['max_abs_diff']:.1e}", ""]
        return "\n".join(lines)

    def cleanup(self) -> None:
        self.steps = []
