"""Run one experiment in its own process, stream its progress, and turn any ending into a result.

This module is the parent side: the handle and its watcher thread. The lab's other jobs live
next to it: ``catalog.py`` (which recipes exist, their parameters, validation), ``child.py``
(the run process), ``result.py`` (the record in ``metrics.json``).

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

import math
import multiprocessing as mp
import os
import queue as queue_mod
import signal
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from tutor.config import Settings, get_settings
from tutor.errors import TutorError
from tutor.io import one_line, write_json
from tutor.lab.base import RecipeCard, RecipeParams
from tutor.lab.catalog import get_recipe, validate_params
from tutor.lab.child import child_main
from tutor.lab.result import METRICS_FILE, RunResult

POLL_S = 0.05  # how often the watcher checks caps when no event arrives
CANCEL_GRACE_S = 5.0  # a cancelled child gets this long to stop at its next epoch/step


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

    def __init__(self, *, run_id: str, recipe: RecipeCard, params: RecipeParams, run_dir: Path,
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
        job = {"kind": self.kind, "module": recipe.module, "params": self.params, "run_dir": str(run_dir),
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
            self._process = ctx.Process(target=child_main, args=(job, self._events, self._cancel_event),
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
                reason=f"the run's watcher failed: {one_line(exc)}", started_at=self.started_at,
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
            artifacts["curves_error"] = one_line(exc)
        tb = self.run_dir / "tensorboard"
        if tb.is_dir():
            artifacts["tensorboard"] = str(tb)
        if (self.run_dir / "error.log").is_file():
            artifacts["error_log"] = str(self.run_dir / "error.log")
        try:
            diagnosis = diagnose(history, metrics=metrics, extras=extras,
                                 chance_accuracy=self._recipe.chance_accuracy, params=self.params, status=status)
        except Exception as exc:  # noqa: BLE001 - odd curves must not cost the result
            diagnosis = {"verdict": "unknown", "summary": f"The curves could not be read ({one_line(exc)}).",
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
