"""The plain torch training loop the classification recipes share.

Written out by hand (rather than Lightning/ignite) because a learner should be able to read
the whole loop top to bottom, and because every epoch must go through ``ctx.log_epoch``
(streaming, TensorBoard, cancellation) and log per-layer gradient norms for the diagnosis.
Imported only inside the run process: it imports torch at module level.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from tutor.lab.base import RunContext


def make_optimizer(name: str, parameters, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}")


def _loss_and_correct(logits: torch.Tensor, y: torch.Tensor, binary: bool) -> tuple[torch.Tensor, torch.Tensor]:
    if binary:
        logits = logits.squeeze(-1)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y.float())
        correct = ((logits > 0).long() == y).sum()
    else:
        # CrossEntropyLoss applies the softmax itself: the roadmap's Dense(10, softmax) +
        # sparse_categorical_crossentropy is this, computed in one numerically safer step.
        loss = nn.functional.cross_entropy(logits, y)
        correct = (logits.argmax(-1) == y).sum()
    return loss, correct


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, binary: bool = False,
             batch_size: int = 1024) -> tuple[float, float, torch.Tensor]:
    """Mean loss, accuracy and predicted classes over a whole split."""
    model.eval()
    total_loss, correct, preds = 0.0, 0, []
    for start in range(0, len(X), batch_size):
        xb, yb = X[start : start + batch_size], y[start : start + batch_size]
        logits = model(xb)
        loss, c = _loss_and_correct(logits, yb, binary)
        total_loss += float(loss) * len(xb)
        correct += int(c)
        preds.append((logits.squeeze(-1) > 0).long() if binary else logits.argmax(-1))
    return total_loss / len(X), correct / len(X), torch.cat(preds)


def layer_grad_norms(model: nn.Module) -> list[tuple[str, float]]:
    """L2 norm of each weight's gradient, in the order the layers are defined (input -> output)."""
    out = []
    for name, param in model.named_parameters():
        if param.grad is None:
            continue
        if name.endswith(".weight"):
            out.append((name.removesuffix(".weight"), float(param.grad.norm())))
        elif ".weight_ih" in name:  # recurrent layers: the input-to-hidden weights
            out.append((name, float(param.grad.norm())))
    return out


def train_classifier(
    model: nn.Module,
    ctx: RunContext,
    data: dict[str, torch.Tensor],
    *,
    epochs: int,
    batch_size: int,
    optimizer: torch.optim.Optimizer,
    seed: int,
    binary: bool = False,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    step_every: int = 10,
) -> None:
    """Train for ``epochs``, logging one history row per epoch and gradient norms per layer."""
    X, y = data["X_train"], data["y_train"]
    generator = torch.Generator().manual_seed(seed)  # shuffling and augmentation draw from here
    step = 0
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(X), generator=generator).to(X.device)
        total_loss, correct = 0.0, 0
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            xb, yb = X[idx], y[idx]
            if augment is not None:
                xb = augment(xb, generator)
            logits = model(xb)
            loss, c = _loss_and_correct(logits, yb, binary)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += float(loss.detach()) * len(xb)
            correct += int(c)
            step += 1
            if step % step_every == 0:
                ctx.log_step(step, loss=float(loss.detach()))  # also where a cancel request is noticed
        for layer, norm in layer_grad_norms(model):  # gradients of the epoch's last batch
            ctx.log_series("grad_norms", {"epoch": epoch, "layer": layer, "norm": norm})
        val_loss, val_acc, _ = evaluate(model, data["X_val"], data["y_val"], binary=binary)
        ctx.log_epoch(epoch, train_loss=total_loss / len(X), train_accuracy=correct / len(X),
                      val_loss=val_loss, val_accuracy=val_acc)


def random_affine(max_degrees: float, max_shift: float):
    """Batch augmentation: each image rotated/shifted by its own small random amount (the CNN
    recipe uses it in torch, and for the roadmap's Keras CNN on its NHWC arrays)."""
    import math

    from torch.nn import functional as F

    def augment(x, generator):
        n = x.shape[0]
        angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(max_degrees)
        shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * max_shift
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
        grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")

    return augment
