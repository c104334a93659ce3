"""Activation functions side by side: the same deep MLP, the same data and batches, only the
nonlinearity changes -- and with it, how much gradient reaches the first layers.

The sigmoid's slope is at most 0.25, so backpropagation multiplies the gradient by <= 0.25 at
every layer: after eight layers the first one hears almost nothing and learns almost nothing
(the vanishing-gradient problem). tanh's slope is up to 1 and ReLU/GELU pass gradients through
unchanged where they are active, which is why deep nets moved to them. Each net gets the
initialisation made for its activation (Xavier for sigmoid/tanh, He for ReLU/GELU), so what
is left is the activation itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from tutor.lab.base import Recipe, RunContext, register
from tutor.lab.cards.activations import CARD, ActivationsParams

_MODULES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "gelu": nn.GELU}


def build_mlp(activation: str, depth: int, width: int, n_in: int = 64, n_out: int = 10) -> nn.Sequential:
    layers: list[nn.Module] = []
    sizes = [n_in] + [width] * depth
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), _MODULES[activation]()]
    layers.append(nn.Linear(sizes[-1], n_out))
    net = nn.Sequential(*layers)
    for m in net:
        if isinstance(m, nn.Linear):
            if activation in ("relu", "gelu"):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            else:
                nn.init.xavier_normal_(m.weight, gain=nn.init.calculate_gain(activation))
            nn.init.zeros_(m.bias)
    return net


def _linear_layers(net: nn.Sequential) -> list[nn.Linear]:
    return [m for m in net if isinstance(m, nn.Linear)]


@register
class ActivationsRecipe(Recipe):
    card = CARD

    def setup(self, params: ActivationsParams, ctx: RunContext) -> None:
        from tutor.lab.data import digits_split

        self.p, self.ctx = params, ctx
        split = digits_split()
        dev = ctx.device

        # Standardise each pixel with the training set's mean and std: centred inputs matter for
        # ReLU nets (uncentred 0..1 pixels left the ReLU net at ~0.6 val accuracy after 15 epochs).
        flat = split.X_train.reshape(len(split.X_train), -1)
        mean, std = flat.mean(0), flat.std(0) + 1e-3  # + 1e-3: some border pixels are always 0

        def t(x, y):
            x = (x.reshape(len(x), -1) - mean) / std
            return torch.tensor(x, dtype=torch.float32, device=dev), torch.tensor(y, device=dev)

        self.train_xy, self.val_xy, self.test_xy = t(split.X_train, split.y_train), t(split.X_val, split.y_val), t(split.X_test, split.y_test)
        self.models: dict[str, nn.Sequential] = {}
        self.opts: dict[str, torch.optim.Optimizer] = {}
        for act in params.activations:
            torch.manual_seed(params.seed)  # the same random draws for every activation's weights
            self.models[act] = build_mlp(act, params.depth, params.width).to(dev)
            opt_cls = torch.optim.SGD if params.optimizer == "sgd" else torch.optim.Adam
            self.opts[act] = opt_cls(self.models[act].parameters(), lr=params.lr)
        self.gen = torch.Generator().manual_seed(params.seed)
        self.curves: dict[str, list[tuple[int, float, float]]] = {a: [] for a in params.activations}
        self.norms: dict[str, list[np.ndarray]] = {a: [] for a in params.activations}

    @torch.no_grad()
    def _evaluate(self, net: nn.Module, xy) -> tuple[float, float]:
        net.eval()
        logits = net(xy[0])
        return nn.functional.cross_entropy(logits, xy[1]).item(), (logits.argmax(1) == xy[1]).float().mean().item()

    def train(self) -> dict[str, float]:
        p, ctx = self.p, self.ctx
        x, y = self.train_xy
        for epoch in range(1, p.epochs + 1):
            order = torch.randperm(len(x), generator=self.gen).to(x.device)  # one batch order shared by all nets
            row: dict[str, float] = {}
            for act, net in self.models.items():
                net.train()
                opt = self.opts[act]
                layers = _linear_layers(net)
                sums = np.zeros(len(layers))
                total, batches = 0.0, 0
                for start in range(0, len(order), p.batch_size):
                    idx = order[start : start + p.batch_size]
                    opt.zero_grad(set_to_none=True)
                    loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
                    loss.backward()
                    # The gradient each layer receives, before the optimizer rescales anything.
                    sums += np.array([layer.weight.grad.norm().item() for layer in layers])
                    opt.step()
                    total += loss.item() * len(idx)
                    batches += 1
                mean_norms = sums / batches
                self.norms[act].append(mean_norms)
                for i, norm in enumerate(mean_norms):
                    ctx.log_series("grad_norms", {"epoch": epoch, "layer": f"{act}.linear{i + 1}", "norm": float(norm),
                                                  "activation": act, "depth_index": i + 1})
                val_loss, val_acc = self._evaluate(net, self.val_xy)
                train_loss = total / len(x)
                self.curves[act].append((epoch, train_loss, val_loss))
                row |= {f"train_loss_{act}": train_loss, f"val_loss_{act}": val_loss, f"val_accuracy_{act}": val_acc,
                        f"grad_ratio_{act}": float(mean_norms[0] / mean_norms[-1])}
            ctx.log_epoch(epoch, **row)

        metrics: dict[str, float] = {}
        for act, net in self.models.items():
            norms = np.mean(self.norms[act], axis=0)  # each layer's gradient norm, averaged over training
            test_loss, test_acc = self._evaluate(net, self.test_xy)
            metrics[f"test_accuracy_{act}"] = test_acc
            metrics[f"final_train_loss_{act}"] = self.curves[act][-1][1]
            # First layer's gradient over the last layer's: ~1 means the gradient arrives intact,
            # << 1 means it vanished on the way down.
            metrics[f"grad_ratio_{act}"] = float(norms[0] / norms[-1])
            metrics[f"first_layer_grad_{act}"] = float(norms[0])
        # The headline accuracy is the best activation's, so the run answers "how well can this net do".
        metrics["test_accuracy"] = max(metrics[f"test_accuracy_{a}"] for a in self.models)
        return metrics

    def save(self) -> dict[str, str]:
        if not any(self.curves.values()):
            return {}
        from tutor.lab.plots import new_figure, save_figure

        run_dir = Path(self.ctx.run_dir)
        fig = new_figure(8, 4)
        ax = fig.subplots()
        for act, rows in self.curves.items():
            (line,) = ax.plot([r[0] for r in rows], [r[1] for r in rows], label=f"{act} train")
            ax.plot([r[0] for r in rows], [r[2] for r in rows], "--", color=line.get_color(), label=f"{act} val")
        ax.set_xlabel("epoch")
        ax.set_ylabel("cross-entropy")
        ax.set_title(f"Same {self.p.depth}-hidden-layer MLP, different activations")
        ax.legend(fontsize=8, ncol=2)
        losses = save_figure(fig, run_dir / "activation_losses.png")

        fig = new_figure(8, 4)
        ax = fig.subplots()
        for act, per_epoch in self.norms.items():
            norms = np.mean(per_epoch, axis=0)
            ax.semilogy(np.arange(1, len(norms) + 1), norms, "o-", label=act)
        ax.set_xlabel("layer (1 = next to the input)")
        ax.set_ylabel("mean gradient norm (log scale)")
        ax.set_title("Gradient reaching each layer")
        ax.legend(fontsize=8)
        grads = save_figure(fig, run_dir / "gradient_norms.png")
        return {"losses": losses, "gradient_norms": grads}

    def cleanup(self) -> None:
        self.models, self.opts = {}, {}
