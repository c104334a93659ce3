"""Overfitting, and what fixes it: a big MLP on a few hundred digits, then the remedies.

A 2x256 MLP has ~85k weights; given 200 training digits it can memorise them all, including
the 20% whose labels were deliberately made wrong (real datasets have label errors too). Its
training loss then keeps falling while the validation loss turns and climbs: the curves
diverge, and the gap between training and validation accuracy is the overfitting you pay.
The remedies each attack it differently:

* dropout: hidden units are dropped at random while training, so no unit can rely on another;
* weight decay: an L2 penalty pulls weights toward zero, preferring smoother functions;
* augmentation: every batch sees the digits with fresh pixel noise (optionally shifted), so
  the net sees "new" examples and learns what does not change;
* early stopping: watch the validation loss and keep the weights from its best epoch.

What is measured: curves are evaluated in eval mode on clean images, so train and validation
are comparable. Training accuracy counts the training digits whose labels are right (the
mirror of validation accuracy); ``memorized_noisy_labels`` is the share of wrongly labelled
digits for which the net predicts the wrong label it was shown -- memorisation, in one number.
The headline metrics (and the plain curve keys) are those of the chosen remedy; in ``compare``
and ``none`` mode, of the baseline. Every variant's numbers are kept as ``<variant>_<metric>``.

Why one run trains the baseline beside the remedy (and ``compare`` trains them all): the
lesson is a difference, and differences are only meaningful on the same data split, the same
initial weights and the same batch order. A remedy alone says nothing without its baseline.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tutor.lab.base import Recipe, RunContext, register
from tutor.lab.cards.overfitting import CARD, OverfittingParams

REMEDIES = ("dropout", "weight_decay", "augmentation", "early_stopping")


def _variants(remedy: str) -> list[str]:
    if remedy == "none":
        return ["baseline"]
    if remedy == "compare":
        return ["baseline", *REMEDIES, "all"]
    return ["baseline", remedy]


def _uses(variant: str, remedy: str) -> bool:
    return variant == remedy or variant == "all"


def augment(x: torch.Tensor, shift: int, noise: float, gen: torch.Generator) -> torch.Tensor:
    """Shift each 8x8 digit by up to ``shift`` pixels (zero-filled) and add pixel noise."""
    if shift > 0:
        padded = nn.functional.pad(x, (shift, shift, shift, shift))
        dx = torch.randint(0, 2 * shift + 1, (len(x),), generator=gen)
        dy = torch.randint(0, 2 * shift + 1, (len(x),), generator=gen)
        x = torch.stack([padded[i, dy[i] : dy[i] + 8, dx[i] : dx[i] + 8] for i in range(len(x))])
    if noise > 0:
        x = (x + noise * torch.randn(x.shape, generator=gen)).clamp(0.0, 1.0)
    return x


@register
class OverfittingRecipe(Recipe):
    card = CARD

    def setup(self, params: OverfittingParams, ctx: RunContext) -> None:
        from tutor.lab.data import DATA_SEED, digits_split

        self.p, self.ctx = params, ctx
        split = digits_split()
        # The same few training digits for every seed (a fixed permutation), so runs compare models.
        keep = np.random.default_rng(DATA_SEED).permutation(len(split.y_train))[: params.n_train]
        self.x_train = torch.tensor(split.X_train[keep])  # (n, 8, 8), kept as images for augmentation
        y = split.y_train[keep].copy()
        rng = np.random.default_rng(DATA_SEED + 1)
        flip = rng.random(len(y)) < params.label_noise
        y[flip] = (y[flip] + rng.integers(1, 10, flip.sum())) % 10  # always a *wrong* class
        self.y_train = torch.tensor(y)
        self.noisy = torch.tensor(flip)
        self.x_val, self.y_val = torch.tensor(split.X_val), torch.tensor(split.y_val)
        self.x_test, self.y_test = torch.tensor(split.X_test), torch.tensor(split.y_test)
        self.variants = _variants(params.remedy)
        # The variant whose numbers head the result and fill the plain train_/val_ curve keys the
        # diagnosis reads: the chosen remedy, or in compare mode the baseline -- the problem the
        # comparison is about -- so the diagnosis text and the headline numbers describe one model.
        self.headline = params.remedy if params.remedy in REMEDIES or params.remedy == "all" else "baseline"
        self.models, self.opts = {}, {}
        for v in self.variants:
            torch.manual_seed(params.seed)  # identical initial weights for every variant
            p_drop = params.dropout if _uses(v, "dropout") else 0.0
            self.models[v] = nn.Sequential(
                nn.Flatten(),
                nn.Linear(64, params.hidden), nn.ReLU(), nn.Dropout(p_drop),
                nn.Linear(params.hidden, params.hidden), nn.ReLU(), nn.Dropout(p_drop),
                nn.Linear(params.hidden, 10),
            ).to(ctx.device)
            # Adam's weight_decay adds the L2 penalty's gradient (wd * w) to each weight's gradient.
            wd = params.weight_decay if _uses(v, "weight_decay") else 0.0
            self.opts[v] = torch.optim.Adam(self.models[v].parameters(), lr=params.lr, weight_decay=wd)
        self.gen = torch.Generator().manual_seed(params.seed)
        self.curves: dict[str, list[dict]] = {v: [] for v in self.variants}
        self.final: dict[str, dict[str, float]] = {}

    @torch.no_grad()
    def _eval(self, v: str, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        net = self.models[v]
        net.eval()
        logits = net(x.to(self.ctx.device))
        y = y.to(self.ctx.device)
        return nn.functional.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()

    def train(self) -> dict[str, float]:
        p, ctx, dev = self.p, self.ctx, self.ctx.device
        best = {v: (float("inf"), None, 0) for v in self.variants}  # (val loss, weights, epoch)
        stopped: set[str] = set()
        for epoch in range(1, p.epochs + 1):
            order = torch.randperm(p.n_train, generator=self.gen)  # one batch order for every variant
            aug_gen = torch.Generator().manual_seed(p.seed * 1000 + epoch)
            row: dict[str, float] = {}
            for v in self.variants:
                if v in stopped:
                    continue
                net, opt = self.models[v], self.opts[v]
                net.train()
                for start in range(0, p.n_train, p.batch_size):
                    idx = order[start : start + p.batch_size]
                    xb = self.x_train[idx]
                    if _uses(v, "augmentation"):
                        xb = augment(xb, p.shift, p.noise, aug_gen)
                    opt.zero_grad(set_to_none=True)
                    loss = nn.functional.cross_entropy(net(xb.to(dev)), self.y_train[idx].to(dev))
                    loss.backward()
                    opt.step()
                # Both curves measured the same way (eval mode, clean images), so their gap is
                # the generalisation gap and not an artefact of dropout or augmentation noise.
                tr_loss, tr_acc = self._train_eval(v)
                va_loss, va_acc = self._eval(v, self.x_val, self.y_val)
                self.curves[v].append({"epoch": epoch, "train_loss": tr_loss, "val_loss": va_loss,
                                       "train_accuracy": tr_acc, "val_accuracy": va_acc})
                keys = {"train_loss": tr_loss, "val_loss": va_loss, "train_accuracy": tr_acc, "val_accuracy": va_acc}
                row |= {f"{k}_{v}": val for k, val in keys.items()}
                if v == self.headline:
                    row |= keys
                if va_loss < best[v][0]:
                    best[v] = (va_loss, copy.deepcopy(net.state_dict()), epoch)
                elif _uses(v, "early_stopping") and epoch - best[v][2] >= p.patience:
                    stopped.add(v)
            if row:
                ctx.log_epoch(epoch, **row)
            if len(stopped) == len(self.variants):
                break

        metrics: dict[str, float] = {}
        for v in self.variants:
            if _uses(v, "early_stopping") and best[v][1] is not None:
                self.models[v].load_state_dict(best[v][1])  # early stopping keeps the best epoch's weights
            tr_loss, tr_acc = self._train_eval(v)
            va_loss, va_acc = self._eval(v, self.x_val, self.y_val)
            _, te_acc = self._eval(v, self.x_test, self.y_test)
            self.final[v] = {
                "train_accuracy": tr_acc, "val_accuracy": va_acc, "test_accuracy": te_acc,
                "generalization_gap": tr_acc - va_acc, "loss_gap": va_loss - tr_loss,
                "epochs_trained": float(len(self.curves[v])),
                "memorized_noisy_labels": self._memorized(v),
            }
            metrics |= {f"{v}_{k}": val for k, val in self.final[v].items()}
        for v in self.variants:
            self.ctx.log_series("variants", {"variant": v, "headline": v == self.headline, **self.final[v]})
        metrics |= self.final[self.headline]
        return metrics

    def _train_eval(self, v: str) -> tuple[float, float]:
        """Training loss over every training label (the objective, wrong labels included), and
        training accuracy on the digits whose labels are right: the mirror image of validation
        accuracy, so train minus validation accuracy is the generalisation gap."""
        loss, _ = self._eval(v, self.x_train, self.y_train)
        clean = ~self.noisy
        _, acc = self._eval(v, self.x_train[clean], self.y_train[clean])
        return loss, acc

    @torch.no_grad()
    def _memorized(self, v: str) -> float:
        """Share of the wrongly labelled training digits for which the net predicts the wrong label."""
        if not bool(self.noisy.any()):
            return 0.0
        net = self.models[v]
        net.eval()
        pred = net(self.x_train[self.noisy].to(self.ctx.device)).argmax(1).cpu()
        return (pred == self.y_train[self.noisy]).float().mean().item()

    def save(self) -> dict[str, str]:
        if not self.final:
            return {}
        from tutor.lab.plots import new_figure, save_figure

        n = len(self.variants)
        cols = min(n, 3)
        rows = (n + cols - 1) // cols
        fig = new_figure(4.0 * cols, 3.0 * rows + 0.4)
        axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, squeeze=False)).ravel()
        top = max(max(r["val_loss"] for r in c) for c in self.curves.values())
        for ax, v in zip(axes, self.variants):
            c = self.curves[v]
            ax.plot([r["epoch"] for r in c], [r["train_loss"] for r in c], label="train")
            ax.plot([r["epoch"] for r in c], [r["val_loss"] for r in c], label="validation")
            f = self.final[v]
            ax.set_title(f"{v.replace('_', ' ')}: gap {f['generalization_gap']:.3f}, val acc {f['val_accuracy']:.3f}", fontsize=9)
            ax.set_xlabel("epoch")
            ax.set_ylim(0, top * 1.05)
        for ax in axes[n:]:
            ax.set_visible(False)
        axes[0].set_ylabel("cross-entropy")
        axes[0].legend(fontsize=8)
        fig.suptitle(f"{self.p.n_train} training digits, 2x{self.p.hidden} MLP: train vs validation loss")
        curves = save_figure(fig, Path(self.ctx.run_dir) / "overfitting_curves.png")

        fig = new_figure(1.6 * n + 2, 3.4)
        ax = fig.subplots()
        xs = np.arange(n)
        ax.bar(xs - 0.2, [self.final[v]["train_accuracy"] for v in self.variants], 0.4, label="train")
        ax.bar(xs + 0.2, [self.final[v]["val_accuracy"] for v in self.variants], 0.4, label="validation")
        ax.set_xticks(xs, [v.replace("_", "\n") for v in self.variants], fontsize=8)
        ax.set_ylim(min(self.final[v]["val_accuracy"] for v in self.variants) - 0.05, 1.005)
        ax.set_ylabel("accuracy")
        ax.set_title("The gap between the bars is the overfitting")
        ax.legend(fontsize=8)
        bars = save_figure(fig, Path(self.ctx.run_dir) / "overfitting_gaps.png")
        return {"curves": curves, "gaps": bars}

    def cleanup(self) -> None:
        self.models, self.opts = {}, {}
