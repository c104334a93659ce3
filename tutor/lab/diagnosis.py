"""Read a run's curves and say, in plain words, what happened.

Input is what every recipe already logs: history rows (``{"epoch", "train_loss", "val_loss",
"train_accuracy", "val_accuracy", ...}``) and, optionally, per-layer gradient norms logged as
``ctx.log_series("grad_norms", {"epoch", "layer", "norm"})``. Output is a small structure
the tutor turns into an explanation::

    {"verdict": "overfitting", "summary": "...", "findings": [{"kind", "epoch", "message"}],
     "suggestions": ["..."]}

Verdicts, most serious first: diverged, vanishing_gradients, overfitting, underfitting,
still_improving, converged; too_short when there are fewer than two epochs to compare.
The rules are simple thresholds on the curves (written here because no library diagnoses
training curves); each one is unit-tested on synthetic curves.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

# Thresholds, named so the rules below read as sentences.
EXPLODE_FACTOR = 3.0  # final loss this many times its best (and above its start) = exploding
RISE_FACTOR = 1.15  # or above its start and 15% above its best = the steps make it worse
OVERFIT_RISE = 0.10  # val loss this fraction above its minimum at the end
OVERFIT_TRAIN_DROP = 0.05  # ...while train loss kept falling by at least this fraction
STALL_FRACTION = 0.85  # loss ended above this fraction of where it started = barely learned
NEAR_CHANCE_MARGIN = 0.15  # accuracy within this share of the way from chance to perfect
IMPROVING_FRACTION = 0.03  # relative loss drop over the last few epochs that counts as "still improving"
IMPROVING_ABS_FRACTION = 0.01  # ...and by at least this share of the starting loss
CONVERGED_BAND = 0.05  # within 5% of the total improvement of its best value = converged
VANISHING_RATIO = 1e-2  # first-layer gradient norm below this share of the last layer's
VANISHING_ABS = 1e-6  # or simply this small


def _series(history: list[dict], key: str) -> list[float]:
    return [float(row[key]) for row in history if key in row and row[key] is not None]


def _epoch_of(history: list[dict], key: str, index: int) -> int:
    rows = [row for row in history if key in row]
    return int(rows[index].get("epoch", index + 1))


def _finite(values: Iterable[float]) -> bool:
    return all(math.isfinite(v) for v in values)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.3e}"


def _pick_loss(history: list[dict]) -> tuple[str | None, str | None]:
    """Which keys hold the training and validation loss."""
    keys = {k for row in history for k in row}
    train = "train_loss" if "train_loss" in keys else ("loss" if "loss" in keys else None)
    val = "val_loss" if "val_loss" in keys else None
    return train, val


def _vanishing(grad_norms: list[dict]) -> dict | None:
    """Compare the first and last layer's gradient norm in the last logged epoch."""
    if not grad_norms:
        return None
    last_epoch = max(row.get("epoch", 0) for row in grad_norms)
    rows = [row for row in grad_norms if row.get("epoch", 0) == last_epoch]
    # Layers are listed in the order logged, which recipes keep input -> output.
    layers: list[str] = []
    norms: dict[str, float] = {}
    for row in rows:
        name = str(row.get("layer"))
        if name not in norms:
            layers.append(name)
        norms[name] = float(row.get("norm", 0.0))
    if len(layers) < 2:
        return None
    first, last = norms[layers[0]], norms[layers[-1]]
    ratio = first / last if last > 0 else 0.0
    if first < VANISHING_ABS or ratio < VANISHING_RATIO:
        return {"epoch": int(last_epoch), "first_layer": layers[0], "last_layer": layers[-1],
                "first": first, "last": last, "ratio": ratio}
    return None


def diagnose(
    history: list[dict],
    *,
    metrics: dict[str, float] | None = None,
    extras: dict[str, list[dict]] | None = None,
    chance_accuracy: float | None = None,
    params: dict[str, Any] | None = None,
    status: str = "ok",
) -> dict[str, Any]:
    """The plain-language diagnosis of one run (see the module docstring for the shape)."""
    metrics = metrics or {}
    extras = extras or {}
    params = params or {}
    findings: list[dict] = []
    suggestions: list[str] = []

    def find(kind: str, message: str, epoch: int | None = None) -> None:
        findings.append({"kind": kind, "epoch": epoch, "message": message})

    def suggest(text: str, param: str | None = None) -> None:
        # Only suggest a knob the recipe actually has, so the learner can act on it.
        if param is None or param in params:
            suggestions.append(text)

    train_key, val_key = _pick_loss(history)
    train = _series(history, train_key) if train_key else []
    val = _series(history, val_key) if val_key else []
    val_acc = _series(history, "val_accuracy")
    train_acc = _series(history, "train_accuracy")
    monitored, monitored_key = (val, val_key) if len(val) >= 2 else (train, train_key)
    n = len(monitored)
    test_acc = metrics.get("test_accuracy")
    status_note = "" if status in ("ok", "completed") else f" (the run ended early: {status})"

    # 1. Diverged: non-finite or exploding loss.
    all_losses = train + val
    if all_losses and not _finite(all_losses) or any(
        not math.isfinite(float(v)) for k, v in metrics.items() if k.endswith("loss")
    ):
        bad = next((i for i, v in enumerate(train) if not math.isfinite(v)), None)
        epoch = _epoch_of(history, train_key, bad) if bad is not None and train_key else None
        find("diverged", f"The loss became {'nan' if any(math.isnan(v) for v in all_losses) else 'infinite'}"
             + (f" at epoch {epoch}" if epoch else "") + ".", epoch)
        suggest("Lower the learning rate (try a tenth of it).", "lr")
        suggest("Switch to the Adam optimizer, which adapts its step size.", "optimizer")
        summary = (
            f"Training diverged{status_note}: the loss stopped being a number"
            + (f" at epoch {epoch}" if epoch else "")
            + ". The steps were too large for this network, so the weights blew up; a smaller learning rate usually fixes it."
        )
        return {"verdict": "diverged", "summary": summary, "findings": findings, "suggestions": suggestions}
    if len(train) >= 2:
        best = min(train)
        # Ending above where it started (and clearly above its best) means the updates made
        # the model worse: the signature of a too-large step, whether it blows up or not.
        if train[-1] > train[0] and (train[-1] > EXPLODE_FACTOR * max(best, 1e-12) or train[-1] > RISE_FACTOR * best):
            find("diverged", f"Training loss rose from {_fmt(train[0])} to {_fmt(train[-1])} "
                 f"(best was {_fmt(best)}).", _epoch_of(history, train_key, len(train) - 1))
            suggest("Lower the learning rate (try a tenth of it).", "lr")
            summary = (
                f"Training diverged{status_note}: the training loss ended at {_fmt(train[-1])}, above where it started "
                f"({_fmt(train[0])}; its best was {_fmt(best)}). The updates overshoot instead of descending; "
                f"reduce the learning rate."
            )
            return {"verdict": "diverged", "summary": summary, "findings": findings, "suggestions": suggestions}

    # Vanishing gradients are judged from the gradient norms, independent of curve length.
    vanish = _vanishing(extras.get("grad_norms", []))
    if vanish:
        find("vanishing_gradients",
             f"At epoch {vanish['epoch']} the gradient reaching {vanish['first_layer']} was {vanish['first']:.2e}, "
             f"{vanish['ratio']:.1e} times the one at {vanish['last_layer']} ({vanish['last']:.2e}).",
             vanish["epoch"])

    if n < 2:
        summary = (
            (f"Only {n} epoch{'s' if n != 1 else ''} ran{status_note}, too few to read a trend from the curves."
             if monitored_key else f"This run logged no loss curve{status_note}, so there is no trend to read.")
            + (f" Test accuracy is {_pct(test_acc)}." if test_acc is not None else "")
        )
        suggest("Run more epochs to see how the curves develop.", "epochs")
        verdict = "vanishing_gradients" if vanish else "too_short"
        return {"verdict": verdict, "summary": summary, "findings": findings, "suggestions": suggestions}

    # 2. Overfitting: val loss turned up while train loss kept going down.
    overfit = None
    if len(val) >= 3 and len(train) >= 3:
        k = min(range(len(val)), key=val.__getitem__)
        if k < len(val) - 1 and val[-1] > val[k] * (1 + OVERFIT_RISE) and train[-1] < train[min(k, len(train) - 1)] * (
            1 - OVERFIT_TRAIN_DROP
        ):
            epoch = _epoch_of(history, val_key, k)
            gap = val[-1] - train[-1]
            overfit = {"epoch": epoch, "gap": gap}
            find("overfitting",
                 f"Validation loss was lowest at epoch {epoch} ({_fmt(val[k])}) and rose to {_fmt(val[-1])}, "
                 f"while training loss fell from {_fmt(train[min(k, len(train) - 1)])} to {_fmt(train[-1])}; "
                 f"the gap is now {_fmt(gap)}.", epoch)
    if train_acc and val_acc:
        acc_gap = train_acc[-1] - val_acc[-1]
        if acc_gap > 0.1:
            find("generalisation_gap", f"Training accuracy {_pct(train_acc[-1])} vs validation {_pct(val_acc[-1])}.")

    # 3. Underfitting: near-chance accuracy, or a loss that barely moved.
    under = None
    final_acc = val_acc[-1] if val_acc else test_acc
    if chance_accuracy is not None and final_acc is not None:
        if final_acc < chance_accuracy + NEAR_CHANCE_MARGIN * (1 - chance_accuracy):
            under = f"accuracy {_pct(final_acc)} is close to guessing ({_pct(chance_accuracy)})"
    if under is None and monitored[0] > 0 and monitored[-1] > STALL_FRACTION * monitored[0]:
        under = f"{monitored_key} only went from {_fmt(monitored[0])} to {_fmt(monitored[-1])}"
    if under:
        find("underfitting", f"The model learned little: {under}.")

    # 4. Still improving: the last few epochs still cut the loss noticeably.
    window = max(1, min(3, n // 4))
    before, last = monitored[-1 - window], monitored[-1]
    # Relative AND absolute: a loss going from 0.003 to 0.002 is 33% lower but already done.
    improving = before > 0 and (before - last) / before > IMPROVING_FRACTION and (
        before - last) > IMPROVING_ABS_FRACTION * monitored[0]
    if val_acc and len(val_acc) > window and val_acc[-1] - val_acc[-1 - window] > 0.01:
        improving = True
    if improving and not overfit:
        find("still_improving",
             f"{monitored_key} fell from {_fmt(before)} to {_fmt(last)} over the last {window} epoch{'s' if window > 1 else ''}.",
             _epoch_of(history, monitored_key, n - 1))

    # 5. Converged: the first epoch whose loss is within a small band of the best.
    best = min(monitored)
    span = monitored[0] - best
    conv_index = next(i for i, v in enumerate(monitored) if v - best <= CONVERGED_BAND * span) if span > 0 else 0
    conv_epoch = _epoch_of(history, monitored_key, conv_index)

    acc_text = f" Test accuracy is {_pct(test_acc)}." if test_acc is not None else ""
    if vanish:
        verdict = "vanishing_gradients"
        summary = (
            f"The gradients vanish before they reach the first layers{status_note}: at epoch {vanish['epoch']} "
            f"{vanish['first_layer']} received a gradient {vanish['ratio']:.1e} times the size of {vanish['last_layer']}'s, "
            f"so the early layers barely learn.{acc_text}"
        )
        suggest("Use ReLU (or GELU) instead of sigmoid/tanh in the hidden layers.", "activation")
        suggest("Use fewer layers, or add normalisation / residual connections.")
    elif overfit:
        verdict = "overfitting"
        summary = (
            f"The model starts overfitting at epoch {overfit['epoch']}{status_note}: after that, validation loss rises "
            f"while training loss keeps falling (gap {_fmt(overfit['gap'])}). It is memorising the training set "
            f"instead of learning what generalises.{acc_text}"
        )
        suggest(f"Stop around epoch {overfit['epoch']} (early stopping).", "epochs")
        suggest("Add dropout (e.g. --dropout 0.3).", "dropout")
        suggest("Add weight decay.", "weight_decay")
        suggest("Turn on data augmentation.", "augmentation")
        suggest("Use more training data or a smaller model.")
    elif under:
        verdict = "underfitting"
        summary = (
            f"The model is underfitting{status_note}: {under}. It has not learned the task yet: it may need more epochs, "
            f"a better learning rate or more capacity.{acc_text}"
        )
        suggest("Train for more epochs.", "epochs")
        suggest("Try a larger learning rate, or the Adam optimizer.", "lr")
        suggest("Give the model more capacity (more filters or hidden units).")
    elif improving:
        verdict = "still_improving"
        summary = (
            f"The model was still improving when training stopped{status_note}: {monitored_key} fell from "
            f"{_fmt(before)} to {_fmt(last)} over the last {window} epoch{'s' if window > 1 else ''}. "
            f"More epochs would likely help.{acc_text}"
        )
        suggest("Run more epochs.", "epochs")
    else:
        verdict = "converged"
        gap_text = ""
        if train and val:
            gap_text = f" Training and validation loss end {_fmt(abs(val[-1] - train[-1]))} apart."
        summary = (
            f"The model converged around epoch {conv_epoch}{status_note}: {monitored_key} settled near {_fmt(best)} "
            f"and later epochs changed little.{gap_text}{acc_text}"
        )
        find("converged", f"{monitored_key} within {int(CONVERGED_BAND * 100)}% of its best from epoch {conv_epoch}.", conv_epoch)
    return {"verdict": verdict, "summary": summary, "findings": findings, "suggestions": suggestions}
