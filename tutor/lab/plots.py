"""PNG plots of runs: training curves, two runs overlaid, a confusion matrix.

Figures are built with matplotlib's object API on the Agg canvas, never ``pyplot``: pyplot
keeps global state, which breaks when the runner draws from a watcher thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

LOSS_KEYS = ("train_loss", "val_loss", "loss")
ACC_KEYS = ("train_accuracy", "val_accuracy", "accuracy")


def new_figure(width: float = 8.0, height: float = 3.6) -> Figure:
    """A figure with an Agg canvas attached; recipes may use it for their own plots."""
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path) -> str:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return str(path)


def _columns(history: list[dict], keys: Sequence[str]) -> dict[str, tuple[list[int], list[float]]]:
    out: dict[str, tuple[list[int], list[float]]] = {}
    for key in keys:
        rows = [r for r in history if r.get(key) is not None]
        if rows:
            out[key] = ([int(r["epoch"]) for r in rows], [float(r[key]) for r in rows])
    return out


def _other_metric_keys(history: list[dict]) -> list[str]:
    seen: list[str] = []
    for row in history:
        for key in row:
            if key != "epoch" and key not in LOSS_KEYS and key not in ACC_KEYS and key not in seen:
                seen.append(key)
    return seen


def plot_curves(history: list[dict], path: str | Path, title: str | None = None) -> str | None:
    """Loss curves (left) and accuracy, or the recipe's other metrics, (right). None if no history."""
    if not history:
        return None
    losses = _columns(history, LOSS_KEYS)
    accuracy = _columns(history, ACC_KEYS)
    panels = [(cols, label) for cols, label in (
        (losses, "loss"),
        (accuracy, "accuracy") if accuracy else (_columns(history, _other_metric_keys(history)), "metric"),
    ) if cols]
    if not panels:
        return None
    fig = new_figure(4.2 * len(panels), 3.4)
    for i, (panel, label) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for key, (epochs, values) in panel.items():
            ax.plot(epochs, values, marker="o" if len(epochs) < 30 else None, markersize=3, label=key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        finite = [v for _, vals in panel.values() for v in vals if np.isfinite(v)]
        if label == "loss" and finite and min(finite) > 0 and max(finite) / min(finite) > 20:
            ax.set_yscale("log")  # losses spanning decades read better on a log axis
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def plot_overlay(
    history_a: list[dict], history_b: list[dict], path: str | Path, labels: tuple[str, str] = ("A", "B"),
    title: str | None = None,
) -> str | None:
    """Two runs' curves on the same axes: solid = run A, dashed = run B."""
    keys = [k for k in (*LOSS_KEYS, *ACC_KEYS) if _columns(history_a, [k]) or _columns(history_b, [k])]
    groups = [g for g in ([k for k in keys if k in LOSS_KEYS], [k for k in keys if k in ACC_KEYS]) if g]
    if not groups:
        return None
    fig = new_figure(4.2 * len(groups), 3.4)
    for i, group in enumerate(groups):
        ax = fig.add_subplot(1, len(groups), i + 1)
        for j, key in enumerate(group):
            color = f"C{j}"
            for hist, style, label in ((history_a, "-", labels[0]), (history_b, "--", labels[1])):
                cols = _columns(hist, [key])
                if key in cols:
                    ax.plot(*cols[key], style, color=color, label=f"{label} {key}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss" if group[0] in LOSS_KEYS else "accuracy")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def plot_confusion(
    y_true: Sequence[int], y_pred: Sequence[int], path: str | Path, labels: Sequence[str] | None = None,
    title: str = "Confusion matrix (test set)",
) -> str:
    """Counts of true class (rows) vs predicted class (columns), numbers written in the cells."""
    from sklearn.metrics import confusion_matrix

    n = len(labels) if labels is not None else int(max(max(y_true), max(y_pred))) + 1
    cm = confusion_matrix(y_true, y_pred, labels=list(range(n)))
    fig = new_figure(0.45 * n + 2.5, 0.45 * n + 2.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(cm, cmap="Blues")
    names = list(labels) if labels is not None else [str(i) for i in range(n)]
    ax.set_xticks(range(n), names, fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = cm.max() / 2 if cm.size else 0
    for r in range(n):
        for c in range(n):
            if cm[r, c]:
                ax.text(c, r, str(cm[r, c]), ha="center", va="center", fontsize=7,
                        color="white" if cm[r, c] > threshold else "black")
    ax.set_title(title, fontsize=9)
    return save_figure(fig, path)
