"""The run process: seed everything, run one recipe, send its events and its ending through a queue.

Everything heavy (torch, the recipe's module) is imported here, in the child, never in the
launching process. ``child_main`` is the entry point of a cold run (spawned by the runner) and
of a warm spare once it receives its job (``tutor/lab/warm.py``). Whatever happens, the last
message on the queue is a ``_result``: the parent turns it into the run's record.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from tutor.io import one_line
from tutor.lab.base import RECIPES, Cancelled, RunContext


def _plain(value: Any) -> Any:
    """Numpy/torch values -> python ones, so the result always pickles across the queue
    (an unpicklable item would be dropped silently by multiprocessing's feeder thread)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if hasattr(value, "item"):
        return _plain(value.item())
    return str(value)


def is_memory_error(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate memory" in text or "cannot allocate memory" in text


def watch_parent(parent_pid: int) -> None:
    # If the parent dies (killed chat server), nobody will read our events or stop us: exit.
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(3)


def child_main(job: dict, events, cancel_event) -> None:
    """Entry point of the run process. Everything heavy is imported here, not in the parent."""
    # Ctrl-C in a terminal reaches the whole process group; the parent turns it into a
    # clean cancel, so the child must not die of it halfway through an epoch.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["KERAS_BACKEND"] = "torch"  # Keras 3 on torch; there is no TensorFlow
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed for deterministic cuBLAS
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    threading.Thread(target=watch_parent, args=(job["parent_pid"],), daemon=True).start()
    import warnings

    # The roadmap's Keras code passes input_shape to Conv2D, which Keras 3 warns about; it runs
    # as written on purpose, so the warning would only be noise on the learner's terminal.
    warnings.filterwarnings("ignore", message=".*input_shape.*", category=UserWarning)

    def emit(event: dict) -> None:
        # Raw floats on purpose: a nan loss must reach the diagnosis as nan.
        events.put(event)

    run_dir = Path(job["run_dir"])
    status, reason, metrics, artifacts = "failed", None, {}, {}
    ctx = None
    recipe = None
    writer = None
    device = "cpu"
    try:
        import importlib
        import random

        import numpy as np
        import torch

        seed = int(job["params"].get("seed", 0))
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        torch.set_num_threads(job["threads"])
        # Same seed + params -> same numbers. warn_only: ops without a deterministic
        # kernel still run (with a warning) instead of failing the lesson.
        torch.use_deterministic_algorithms(True, warn_only=True)
        want = job["device"]
        device = "cuda" if want == "cuda" or (want == "auto" and torch.cuda.is_available()) else "cpu"
        if device == "cuda":
            torch.cuda.manual_seed_all(seed)
            torch.backends.cudnn.benchmark = False

        importlib.import_module(job["module"])  # registers the recipe (also test-only ones)
        cls = RECIPES[job["kind"]]
        params = cls.Params.model_validate(job["params"])

        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(run_dir / "tensorboard"))
        ctx = RunContext(run_dir=run_dir, device=torch.device(device), emit=emit,
                         is_cancelled=cancel_event.is_set, writer=writer)
        emit({"type": "status", "stage": "setup", "device": device})
        recipe = cls()
        recipe.setup(params, ctx)
        ctx.check_cancelled()
        emit({"type": "status", "stage": "train"})
        metrics = recipe.train() or {}
        ctx.check_cancelled()
        emit({"type": "status", "stage": "save"})
        artifacts = recipe.save() or {}
        status = "ok"
    except Cancelled:
        status, reason = "cancelled", "cancelled on request"
    except BaseException as exc:  # noqa: BLE001 - every failure must become a result
        status = "memory" if is_memory_error(exc) else "failed"
        reason = one_line(exc)
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / "error.log").write_text(traceback.format_exc())
        except OSError:
            pass
    finally:
        for closer in (getattr(recipe, "cleanup", None), getattr(writer, "close", None)):
            try:
                if closer:
                    closer()
            except Exception:  # noqa: BLE001 - cleanup must not hide the result
                pass
    events.put({
        "type": "_result", "status": status, "reason": reason, "metrics": _plain(dict(metrics)),
        "artifacts": {str(k): str(v) for k, v in artifacts.items()}, "extras": _plain(ctx.extras if ctx else {}),
        "device": device,
    })
    events.close()
    events.join_thread()  # make sure the result reached the pipe before we exit
