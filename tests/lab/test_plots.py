"""Plots are real PNG files with the right content drawn."""

from __future__ import annotations

from tutor.lab.plots import plot_confusion, plot_curves, plot_overlay

PNG = b"\x89PNG"
HIST = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "val_accuracy": 0.5 + e / 20} for e in range(1, 6)]


def test_curves_overlay_and_confusion_are_pngs(tmp_path):
    curves = plot_curves(HIST, tmp_path / "c.png", title="t")
    overlay = plot_overlay(HIST, HIST[:3], tmp_path / "o.png")
    confusion = plot_confusion([0, 1, 2, 2], [0, 2, 2, 2], tmp_path / "m.png", labels=["a", "b", "c"])
    for path in (curves, overlay, confusion):
        data = open(path, "rb").read()
        assert data.startswith(PNG) and len(data) > 2000


def test_no_history_means_no_plot(tmp_path):
    assert plot_curves([], tmp_path / "x.png") is None
    assert not (tmp_path / "x.png").exists()


def test_recipe_specific_metrics_are_plotted_when_there_is_no_accuracy(tmp_path):
    hist = [{"epoch": e, "train_loss": 1 / e, "mse": 2 / e} for e in range(1, 4)]
    assert plot_curves(hist, tmp_path / "m.png") is not None
