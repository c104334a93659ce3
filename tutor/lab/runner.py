"""Run one experiment in its own process, stream its progress, and turn any ending into a result.

    handle = start_run("cnn", {"epochs": 3, "dropout": 0.2})
    for event in handle.events():          # {"type": "epoch", "epoch": 1, "train_loss": ...}
        ...                                # last event: {"type": "done", "result": {...}}
    result = handle.wait()                 # RunResult; status ok|failed|timeout|memory|cancelled

or, blocking: ``result = run("cnn", {"epochs": 3}, on_event=print)``.

Why a process per run: training can crash, hang, eat memory or be cancelled, and none of
that may take the chat down with it. The child (spawned, so it starts clean and imports
torch itself) seeds everything, runs the recipe and sends events through a queue. A watcher
thread in the parent relays the events, enforces the wall-time cap and an RSS memory cap
(psutil; RLIMIT_AS is useless with torch, which reserves far more address space than it
uses), handles cancellation, and finally writes ``metrics.json``, the curves PNG and the
diagnosis itself, so even a killed run leaves a complete record.

Notes for callers:
- ``on_event`` is called from the watcher thread; ``events()`` is for one consumer.
- The wall-time cap counts from process start (imports included).
- Runs use the "spawn" start method, which re-imports the launching program's main module
  in the child: keep a ``if __name__ == "__main__":`` guard there, and keep heavy imports
  (Gradio, the LLM) out of its top level so they do not slow every run's start.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import queue as queue_mod
import signal
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError

from tutor.config import Settings, get_settings
from tutor.errors import TutorError
from tutor.lab.base import RECIPES, Cancelled, Recipe, RecipeParams, RunContext

Status = Literal["ok", "failed", "timeout", "memory", "cancelled"]
POLL_S = 0.05  # how often the watcher checks caps when no event arrives
CANCEL_GRACE_S = 5.0  # a cancelled child gets this long to stop at its next epoch/step
METRICS_FILE = "metrics.json"


# --- recipes and their parameters ------------------------------------------------------------


def load_recipes() -> dict[str, type[Recipe]]:
    """Import every recipe module (each registers itself) and return the registry."""
    import tutor.lab.recipes  # noqa: F401  (import side effect: registration)

    return RECIPES


def get_recipe(kind: str) -> type[Recipe]:
    recipes = load_recipes()
    if kind not in recipes:
        raise TutorError(f"unknown experiment '{kind}'; choose one of: {', '.join(sorted(recipes))}")
    return recipes[kind]


def _bounds(info) -> dict[str, float]:
    out: dict[str, float] = {}
    for meta in info.metadata:
        for attr in ("ge", "gt", "le", "lt"):
            value = getattr(meta, attr, None)
            if value is not None:
                out[attr] = value
    return out


def param_spec(kind: str) -> list[dict[str, Any]]:
    """Each parameter of a recipe: name, type, default, bounds or choices, description."""
    cls = get_recipe(kind)
    spec = []
    for name, info in cls.Params.model_fields.items():
        ann = info.annotation
        default = info.get_default(call_default_factory=True)
        entry: dict[str, Any] = {"name": name, "default": default, "description": info.description or ""}
        if get_origin(ann) is Literal:
            entry["type"] = "choice"
            entry["choices"] = list(get_args(ann))
        elif get_origin(ann) in (list, tuple):
            entry["type"] = "list"
            item = (get_args(ann) or (str,))[0]
            if get_origin(item) is Literal:
                entry["choices"] = list(get_args(item))
            else:
                entry["item_type"] = getattr(item, "__name__", str(item))
        else:
            entry["type"] = getattr(ann, "__name__", str(ann))
        b = _bounds(info)
        if "ge" in b or "gt" in b:
            entry["min"] = b.get("ge", b.get("gt"))
            entry["min_exclusive"] = "gt" in b
        if "le" in b or "lt" in b:
            entry["max"] = b.get("le", b.get("lt"))
            entry["max_exclusive"] = "lt" in b
        spec.append(entry)
    return spec


def describe_param(entry: dict[str, Any]) -> str:
    """'an integer between 1 and 200', 'one of adam, sgd', 'a number greater than 0 and at most 1'."""
    if entry["type"] == "choice":
        return "one of " + ", ".join(str(c) for c in entry["choices"])
    if entry["type"] == "bool":
        return "true or false"
    if entry["type"] == "list":
        items = ("any of " + ", ".join(str(c) for c in entry["choices"])) if entry.get("choices") else (
            f"{entry.get('item_type', 'value')} values")
        return f"a comma-separated list ({items})"
    noun = {"int": "an integer", "float": "a number"}.get(entry["type"], f"a {entry['type']}")
    lo, hi = entry.get("min"), entry.get("max")
    num = lambda v: str(v) if isinstance(v, int) else f"{v:g}"  # noqa: E731 - 2147483647, not 2.15e+09
    if lo is not None and hi is not None and not entry.get("min_exclusive") and not entry.get("max_exclusive"):
        return f"{noun} between {num(lo)} and {num(hi)}"
    parts = []
    if lo is not None:
        parts.append(f"{'greater than' if entry.get('min_exclusive') else 'at least'} {num(lo)}")
    if hi is not None:
        parts.append(f"{'less than' if entry.get('max_exclusive') else 'at most'} {num(hi)}")
    return noun + (" " + " and ".join(parts) if parts else "")


def explain_validation(kind: str, exc: ValidationError) -> str:
    """One sentence per problem, naming the valid range, e.g. 'epochs must be between 1 and 200 (got 0)'."""
    spec = {e["name"]: e for e in param_spec(kind)}
    messages = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        name = str(loc[0]) if loc else ""
        if err["type"] == "extra_forbidden":
            messages.append(f"unknown parameter '{name}' for {kind}; valid parameters: {', '.join(spec)}")
        elif name in spec:
            got = err.get("input")
            messages.append(f"{name} must be {describe_param(spec[name])} (got {got!r})")
        else:  # a rule across fields (model validator): its message is already meant for people
            messages.append(str(err.get("msg", "")).removeprefix("Value error, "))
    return "; ".join(messages)


def validate_params(kind: str, params: dict[str, Any] | RecipeParams | None) -> RecipeParams:
    cls = get_recipe(kind)
    if isinstance(params, cls.Params):
        return params
    try:
        return cls.Params.model_validate(dict(params or {}))
    except ValidationError as exc:
        raise TutorError(explain_validation(kind, exc)) from None


# --- the result --------------------------------------------------------------------------------


class RunResult(BaseModel):
    """Everything about one finished run; ``metrics.json`` in the run dir holds exactly this."""

    run_id: str
    kind: str
    params: dict[str, Any]
    status: Status
    reason: str | None = Field(None, description="One line on why a run did not finish ok.")
    metrics: dict[str, Any] = Field(default_factory=dict)
    history: list[dict[str, Any]] = Field(default_factory=list)
    extras: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    artifacts: dict[str, str] = Field(default_factory=dict)
    diagnosis: dict[str, Any] = Field(default_factory=dict)
    started_at: str
    duration_s: float
    framework: str = "torch"
    device: str = "cpu"
    primary_metric: str = "test_accuracy"
    higher_is_better: bool = True
    run_dir: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        return _json_safe(self.model_dump())


def _json_safe(value: Any) -> Any:
    """Strict JSON: nan/inf (a diverged loss) become null; the diagnosis already noted them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return _json_safe(value.item())
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: Path, data: dict) -> None:
    """Atomic write: a reader never sees half a file, a crash never leaves one."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(_json_safe(data), indent=2))
    os.replace(tmp, path)


# --- the child process -------------------------------------------------------------------------


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


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _is_memory_error(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate memory" in text or "cannot allocate memory" in text


def _watch_parent(parent_pid: int) -> None:
    # If the parent dies (killed chat server), nobody will read our events or stop us: exit.
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(3)


def _child_main(job: dict, events, cancel_event) -> None:
    """Entry point of the run process. Everything heavy is imported here, not in the parent."""
    # Ctrl-C in a terminal reaches the whole process group; the parent turns it into a
    # clean cancel, so the child must not die of it halfway through an epoch.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["KERAS_BACKEND"] = "torch"  # Keras 3 on torch; there is no TensorFlow
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed for deterministic cuBLAS
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    threading.Thread(target=_watch_parent, args=(job["parent_pid"],), daemon=True).start()
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
        status = "memory" if _is_memory_error(exc) else "failed"
        reason = _one_line(exc)
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


# --- the parent side ---------------------------------------------------------------------------


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def _kill_tree(process: mp.process.BaseProcess) -> None:
    import psutil

    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        children = []
    for child in children:
        try:
            child.kill()
        except psutil.Error:
            pass
    if process.is_alive():
        process.kill()
    process.join(10)


def _default_threads(settings: Settings) -> int:
    # One thread by default: these models are tiny, and on a shared or busy machine OpenMP
    # threads spin-waiting on each other made a CNN epoch 3x slower with 2 threads than with 1
    # (measured with the LLM and builds competing for 2 cores). The `lab_threads` setting
    # (TUTOR_LAB_THREADS, 1..64) overrides it.
    return settings.lab_threads or 1


def new_run_id(kind: str) -> str:
    return f"{kind}-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"


class RunHandle:
    """A run in progress. ``events()`` streams it, ``cancel()`` stops it, ``wait()`` returns its result."""

    def __init__(self, *, run_id: str, recipe: type[Recipe], params: RecipeParams, run_dir: Path,
                 settings: Settings, max_seconds: float, max_memory_mb: int, threads: int,
                 on_event: Callable[[dict], None] | None):
        self.run_id = run_id
        self.kind = recipe.name
        self.run_dir = run_dir
        self.params = params.model_dump()
        self.max_seconds = float(max_seconds)
        self.max_memory_mb = int(max_memory_mb)
        self._recipe = recipe
        self._on_event = on_event
        self._local: queue_mod.Queue = queue_mod.Queue()
        self._done = threading.Event()
        self._result: RunResult | None = None
        self._cancel_at: float | None = None
        self._started = time.monotonic()
        self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.framework = str(self.params.get("framework", "torch"))

        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(run_dir / METRICS_FILE, {
            "run_id": run_id, "kind": self.kind, "params": self.params, "status": "running",
            "started_at": self.started_at, "framework": self.framework, "parent_pid": os.getpid(),
            "primary_metric": recipe.primary_metric, "higher_is_better": recipe.higher_is_better,
            "run_dir": str(run_dir),
        })
        job = {"kind": self.kind, "module": recipe.__module__, "params": self.params, "run_dir": str(run_dir),
               "device": settings.lab_device, "threads": threads, "parent_pid": os.getpid()}
        from tutor.lab.warm import POOL

        spare = POOL.take()
        # Hold the spare (its job queue too): a queue collected before a just-started child has
        # unpickled it takes its semaphore with it, and the child dies on start.
        self._spare = spare
        self.warm = spare is not None
        if spare is not None:  # a process with torch already imported (tutor/lab/warm.py)
            self._events, self._cancel_event, self._process = spare.events, spare.cancel, spare.process
            spare.jobs.put(job)
        else:
            ctx = mp.get_context("spawn")
            self._events = ctx.Queue()
            self._cancel_event = ctx.Event()
            # daemon: if the launching program exits, multiprocessing takes the run down with it.
            self._process = ctx.Process(target=_child_main, args=(job, self._events, self._cancel_event),
                                        name=f"tutor-run-{run_id}", daemon=True)
            self._process.start()
        self.pid = self._process.pid
        self._thread = threading.Thread(target=self._watch, name=f"watch-{run_id}", daemon=True)
        self._thread.start()

    # -- public ---------------------------------------------------------------------------

    def events(self) -> Iterator[dict]:
        """Every event of the run, in order, ending with ``{"type": "done", "result": {...}}``.

        Call it from one consumer; events are kept until read, so a late start misses nothing.
        """
        while True:
            event = self._local.get()
            yield event
            if event.get("type") == "done":
                return

    def cancel(self, force: bool = False) -> None:
        """Ask the run to stop at its next epoch/step; it is killed if it has not stopped within
        a few seconds, or at once with ``force``. The result's status is "cancelled" either way."""
        if force:
            self._cancel_at = -math.inf
        elif self._cancel_at is None:
            self._cancel_at = time.monotonic()
        self._cancel_event.set()

    def wait(self, timeout: float | None = None) -> RunResult | None:
        """Block until the run ends (or ``timeout`` seconds pass: then None)."""
        if not self._done.wait(timeout):
            return None
        return self._result

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def result(self) -> RunResult | None:
        return self._result

    def is_alive(self) -> bool:
        return self._process.is_alive()

    # -- the watcher thread -----------------------------------------------------------------

    def _deliver(self, event: dict) -> None:
        event = {**event, "run_id": self.run_id, "elapsed_s": round(time.monotonic() - self._started, 3)}
        self._local.put(event)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # noqa: BLE001 - a faulty listener must not stop the watcher
                pass

    def _watch(self) -> None:
        # Whatever happens in here, waiters get a result: a hung chat is the one thing a run may not cause.
        try:
            self._watch_run()
        except BaseException as exc:  # noqa: BLE001
            if self._process.is_alive():
                _kill_tree(self._process)
            self._result = RunResult(
                run_id=self.run_id, kind=self.kind, params=self.params, status="failed",
                reason=f"the run's watcher failed: {_one_line(exc)}", started_at=self.started_at,
                duration_s=round(time.monotonic() - self._started, 3), framework=self.framework,
                run_dir=str(self.run_dir),
            )
            try:
                write_json(self.run_dir / METRICS_FILE, self._result.to_json())
            except OSError:
                pass
            self._deliver({"type": "done", "status": "failed", "result": self._result.to_json()})
        finally:
            from tutor.lab.warm import POOL

            try:
                POOL.refill()  # the next run finds a warm spare (when a face turned them on)
            finally:
                self._done.set()

    def _watch_run(self) -> None:
        # Import the plotting stack now, while the child starts, so the result is ready the
        # moment the run ends (matplotlib's first import takes a second or more).
        from tutor.lab import plots  # noqa: F401

        history: list[dict] = []
        child_result: dict | None = None
        killed: tuple[str, str] | None = None
        deadline = self._started + self.max_seconds
        cap_bytes = self.max_memory_mb * 1024 * 1024
        peak_rss = 0
        next_check = 0.0

        def take(event: dict) -> None:
            nonlocal child_result
            if event.get("type") == "_result":
                child_result = event
                return
            if event.get("type") == "epoch":
                history.append({k: v for k, v in event.items() if k != "type"})
            self._deliver(event)

        while True:
            try:
                take(self._events.get(timeout=POLL_S))
            except queue_mod.Empty:
                pass
            except (EOFError, OSError, ValueError):  # a killed child can leave a torn message
                pass
            now = time.monotonic()
            if now < next_check:
                continue
            next_check = now + POLL_S
            if not self._process.is_alive():
                break
            rss = _tree_rss(self._process.pid)
            peak_rss = max(peak_rss, rss)
            if now > deadline:
                killed = ("timeout", f"stopped at the time limit of {self.max_seconds:g} s")
            elif rss > cap_bytes:
                killed = ("memory", f"stopped: it used {rss / 2**20:.0f} MB, over the memory limit of {self.max_memory_mb} MB")
            elif self._cancel_at is not None and now - self._cancel_at > CANCEL_GRACE_S:
                killed = ("cancelled", "cancelled on request (stopped forcibly)")
            if killed:
                _kill_tree(self._process)
                break

        # Collect what the child managed to send before it ended.
        drain_until = time.monotonic() + (0.5 if killed else 3.0)
        while time.monotonic() < drain_until:
            try:
                take(self._events.get(timeout=0.1))
            except queue_mod.Empty:
                if child_result is not None or killed:
                    break
            except (EOFError, OSError, ValueError):
                break
        self._process.join(5)

        if killed:
            status, reason = killed
        elif child_result is not None:
            status, reason = child_result["status"], child_result.get("reason")
        else:
            code = self._process.exitcode
            status = "failed"
            reason = f"the run process ended without a result (exit code {code})"
            if code == -signal.SIGKILL:
                reason += "; it was killed, possibly by the system for using too much memory"
        if status == "cancelled" and history:
            reason = f"{reason} after epoch {history[-1].get('epoch')}"
        self._result = self._finish(status, reason, history, child_result or {})
        self._deliver({"type": "done", "status": status, "result": self._result.to_json()})

    def _finish(self, status: str, reason: str | None, history: list[dict], child: dict) -> RunResult:
        from tutor.lab import plots
        from tutor.lab.diagnosis import diagnose

        metrics = child.get("metrics") or {}
        extras = child.get("extras") or {}
        artifacts = dict(child.get("artifacts") or {})
        try:
            curves = plots.plot_curves(history, self.run_dir / "curves.png", title=f"{self.kind} · {self.run_id}")
            if curves:
                artifacts["curves"] = curves
        except Exception as exc:  # noqa: BLE001 - a plot must never cost the result
            artifacts["curves_error"] = _one_line(exc)
        tb = self.run_dir / "tensorboard"
        if tb.is_dir():
            artifacts["tensorboard"] = str(tb)
        if (self.run_dir / "error.log").is_file():
            artifacts["error_log"] = str(self.run_dir / "error.log")
        try:
            diagnosis = diagnose(history, metrics=metrics, extras=extras,
                                 chance_accuracy=self._recipe.chance_accuracy, params=self.params, status=status)
        except Exception as exc:  # noqa: BLE001 - odd curves must not cost the result
            diagnosis = {"verdict": "unknown", "summary": f"The curves could not be read ({_one_line(exc)}).",
                         "findings": [], "suggestions": []}
        result = RunResult(
            run_id=self.run_id, kind=self.kind, params=self.params, status=status, reason=reason,
            metrics=metrics, history=history, extras=extras, artifacts=artifacts, diagnosis=diagnosis,
            started_at=self.started_at, duration_s=round(time.monotonic() - self._started, 3),
            framework=self.framework, device=str(child.get("device", "cpu")),
            primary_metric=self._recipe.primary_metric, higher_is_better=self._recipe.higher_is_better,
            run_dir=str(self.run_dir),
        )
        write_json(self.run_dir / METRICS_FILE, result.to_json())
        return result


def start_run(
    kind: str,
    params: dict[str, Any] | RecipeParams | None = None,
    *,
    settings: Settings | None = None,
    on_event: Callable[[dict], None] | None = None,
    max_seconds: float | None = None,
    max_memory_mb: int | None = None,
    threads: int | None = None,
) -> RunHandle:
    """Validate, then launch a run in its own process and return at once.

    Raises TutorError for an unknown kind or bad parameters (the message names the valid range).
    ``max_seconds`` / ``max_memory_mb`` override the settings' caps for this run.
    """
    settings = settings or get_settings()
    recipe = get_recipe(kind)
    validated = validate_params(kind, params)
    if max_seconds is not None and not (0 < max_seconds <= 86400):
        raise TutorError(f"max seconds must be between 0 and 86400 (got {max_seconds})")
    if max_memory_mb is not None and not (64 <= max_memory_mb <= 1_000_000):
        raise TutorError(f"max memory must be between 64 and 1000000 MB (got {max_memory_mb})")
    run_id = new_run_id(kind)
    return RunHandle(
        run_id=run_id, recipe=recipe, params=validated, run_dir=Path(settings.runs_dir) / run_id, settings=settings,
        max_seconds=max_seconds or settings.lab_max_seconds, max_memory_mb=max_memory_mb or settings.lab_max_memory_mb,
        threads=threads or _default_threads(settings), on_event=on_event,
    )


def run(
    kind: str,
    params: dict[str, Any] | RecipeParams | None = None,
    on_event: Callable[[dict], None] | None = None,
    settings: Settings | None = None,
    **caps: Any,
) -> RunResult:
    """Blocking form of ``start_run``: returns the finished run's result."""
    handle = start_run(kind, params, settings=settings, on_event=on_event, **caps)
    result = handle.wait()
    assert result is not None
    return result
