"""Run the roadmap's two Keras snippets exactly as written, on Keras 3 with the torch backend.

The code is read from the roadmap file itself (its two ```python blocks), so what trains is
what the learner reads. The snippets begin with ``from tensorflow import keras`` and
``from tensorflow.keras import layers``. TensorFlow is not installed (and not needed: Keras 3
runs on torch), so the snippet is executed with an ``__import__`` that answers those two
imports with Keras 3 itself. Nothing else changes: the model definition, the compile call and
``model.summary()`` run verbatim. The shim lives only in the snippet's own builtins; the rest
of the process never sees a fake ``tensorflow`` module.

Training then continues outside the snippet (the roadmap says "training and evaluation would
follow"): ``model.fit`` on the lab's data, one epoch per call, a Keras callback forwarding each
epoch to ``ctx.log_epoch`` so the run streams like the torch recipes.

Only the run process imports this module (it imports Keras); KERAS_BACKEND=torch is set there.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import io
import os
import re
import types
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from tutor.errors import TutorError

ROADMAP_FILE = Path("corpus") / "roadmap" / "deep_learning_roadmap.md"


def roadmap_path() -> Path:
    """The roadmap markdown inside the knowledge package, located without importing it
    (the lab layer must not depend on knowledge code, only on this data file)."""
    spec = importlib.util.find_spec("knowledge")
    candidates = [Path(p) / ROADMAP_FILE for p in (spec.submodule_search_locations or [])] if spec else []
    candidates.append(Path(__file__).resolve().parents[2] / "knowledge" / ROADMAP_FILE)
    for path in candidates:
        if path.is_file():
            return path
    raise TutorError("the roadmap file (knowledge/corpus/roadmap/deep_learning_roadmap.md) is missing; reinstall the tutor")


def roadmap_snippets(path: Path | None = None) -> dict[str, str]:
    """{"cnn": code, "rnn": code}: the roadmap's Keras code blocks, picked by what they build."""
    text = (path or roadmap_path()).read_text(encoding="utf-8", errors="replace")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    found: dict[str, str] = {}
    for block in blocks:
        if "keras" not in block:
            continue
        if "Conv2D" in block and "cnn" not in found:
            found["cnn"] = block
        elif "LSTM" in block and "rnn" not in found:
            found["rnn"] = block
    missing = {"cnn", "rnn"} - set(found)
    if missing:
        raise TutorError(f"the roadmap no longer has its Keras {' and '.join(sorted(missing))} snippet")
    return found


def _snippet_import(name, globals=None, locals=None, fromlist=(), level=0):
    """``__import__`` for the snippet: ``tensorflow.keras`` is answered by Keras 3."""
    if level == 0 and (name == "tensorflow" or name.startswith("tensorflow.")):
        import keras

        tensorflow = types.SimpleNamespace(keras=keras)  # enough for `from tensorflow import keras`
        if name == "tensorflow":
            return tensorflow
        if not name.startswith("tensorflow.keras"):
            raise ImportError(f"{name} has no Keras 3 equivalent here")
        module = importlib.import_module("keras" + name[len("tensorflow.keras"):])
        return module if fromlist else tensorflow
    return builtins.__import__(name, globals, locals, fromlist, level)


def build_roadmap_model(which: str) -> tuple[Any, str, str]:
    """Execute the roadmap's snippet; return (compiled model, model.summary() text, the code)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    code = roadmap_snippets()[which]
    namespace: dict[str, Any] = {
        "__name__": f"roadmap_{which}",
        "__builtins__": {**builtins.__dict__, "__import__": _snippet_import},
    }
    summary = io.StringIO()
    with redirect_stdout(summary):  # the snippet calls model.summary(); keep it as an artifact
        exec(compile(code, f"{roadmap_path()} ({which} snippet)", "exec"), namespace)  # noqa: S102 - our own roadmap
    model = namespace.get("model")
    if model is None:
        raise TutorError(f"the roadmap's {which} snippet did not define `model`")
    return model, summary.getvalue(), code


def _epoch_callback(ctx, epoch_number: list[int], step_every: int = 10):
    import keras

    class StreamToRun(keras.callbacks.Callback):
        """Forward Keras' per-epoch logs to the run (history, TensorBoard, events, cancel)."""

        def on_train_batch_end(self, batch, logs=None):
            if batch % step_every == 0:
                ctx.log_step(batch, loss=float((logs or {}).get("loss", float("nan"))))

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            ctx.log_epoch(epoch_number[0], train_loss=logs["loss"], train_accuracy=logs["accuracy"],
                          val_loss=logs["val_loss"], val_accuracy=logs["val_accuracy"])

    return StreamToRun()


def _fit(model, ctx, X, y, X_val, y_val, *, epochs: int, batch_size: int, seed: int, augment=None) -> None:
    import numpy as np

    epoch_number = [0]
    callback = _epoch_callback(ctx, epoch_number)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        epoch_number[0] = epoch + 1
        X_epoch = augment(X, rng) if augment is not None else X
        model.fit(X_epoch, y, batch_size=batch_size, epochs=epoch + 1, initial_epoch=epoch,
                  validation_data=(X_val, y_val), shuffle=True, verbose=0, callbacks=[callback])


def _seed(seed: int) -> None:
    import keras

    keras.utils.set_random_seed(seed)  # python, numpy and the torch backend


def train_roadmap_cnn(split, ctx, *, epochs: int, batch_size: int, seed: int, augmentation: bool = False) -> dict:
    """The roadmap's CNN on digits at 28x28x1 (its input_shape)."""
    import numpy as np

    _seed(seed)
    model, summary, _ = build_roadmap_model("cnn")
    add_channel = lambda a: a[..., None].astype("float32")  # noqa: E731 - Keras wants NHWC
    augment = None
    if augmentation:
        import torch

        from tutor.lab.training import random_affine

        affine = random_affine(10.0, 0.15)
        generator = torch.Generator().manual_seed(seed)

        def augment(X, _rng):
            moved = affine(torch.as_tensor(X).permute(0, 3, 1, 2), generator)
            return moved.permute(0, 2, 3, 1).numpy()

    _fit(model, ctx, add_channel(split.X_train), split.y_train, add_channel(split.X_val), split.y_val,
         epochs=epochs, batch_size=batch_size, seed=seed, augment=augment)
    test = model.evaluate(add_channel(split.X_test), split.y_test, verbose=0, return_dict=True)
    probs = model.predict(add_channel(split.X_test), verbose=0)
    last = ctx.history[-1]
    return {"test_accuracy": float(test["accuracy"]), "test_loss": float(test["loss"]),
            "val_accuracy": last["val_accuracy"], "train_accuracy": last["train_accuracy"],
            "parameters": float(model.count_params()), "y_pred": np.asarray(probs).argmax(-1),
            "model_summary": summary}


def train_roadmap_rnn(split, ctx, *, epochs: int, batch_size: int, seed: int) -> dict:
    """The roadmap's LSTM on the generated sentiment set (ids < 10000, its Embedding's input_dim)."""
    import numpy as np

    _seed(seed)
    model, summary, _ = build_roadmap_model("rnn")
    as_float = lambda a: a.astype("float32")  # noqa: E731 - Keras' binary accuracy wants float labels
    _fit(model, ctx, split.X_train, as_float(split.y_train), split.X_val, as_float(split.y_val),
         epochs=epochs, batch_size=batch_size, seed=seed)
    test = model.evaluate(split.X_test, as_float(split.y_test), verbose=0, return_dict=True)
    probs = np.asarray(model.predict(split.X_test, verbose=0)).reshape(-1)
    last = ctx.history[-1]
    # The roadmap's snippet summarises an unbuilt model; now that it has trained, show it built.
    built = io.StringIO()
    with redirect_stdout(built):
        model.summary()
    return {"test_accuracy": float(test["accuracy"]), "test_loss": float(test["loss"]),
            "val_accuracy": last["val_accuracy"], "train_accuracy": last["train_accuracy"],
            "parameters": float(model.count_params()), "y_pred": (probs > 0.5).astype(int),
            "model_summary": summary + "\nAfter training:\n" + built.getvalue()}
