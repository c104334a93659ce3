"""A warm spare for the next experiment: a run process that has already imported torch.

A cold run spends most of its first seconds importing torch, scikit-learn and the recipes in its
fresh process (measured in benchmarks/agent.py). A face that expects runs (the page, `tutor chat`)
calls ``prewarm()`` once; from then on one spare process waits with the imports done, the next
``start_run`` hands it its job, and a new spare is made once that run has finished (not during
it: on 2 cores a second process importing torch would slow the training it waits beside).
Isolation is unchanged: each run still has its own process, caps and cancel, and a spare serves
exactly one run.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class Spare:
    process: Any
    jobs: Any
    events: Any
    cancel: Any


def _warm_main(jobs, events, cancel_event, parent_pid: int) -> None:
    """The spare's entry point: do the slow imports, then wait for one job (or None to quit)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import os

    os.environ["KERAS_BACKEND"] = "torch"
    from tutor.lab.child import child_main, watch_parent

    threading.Thread(target=watch_parent, args=(parent_pid,), daemon=True).start()
    import numpy  # noqa: F401
    import sklearn.datasets  # noqa: F401
    import torch  # noqa: F401
    from torch.utils.tensorboard import SummaryWriter  # noqa: F401

    import tutor.lab.recipes  # noqa: F401  (registers and imports every recipe's dependencies)

    job = jobs.get()
    if job is None:
        return
    child_main(job, events, cancel_event)


class WarmPool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spare: Spare | None = None
        self.enabled = False

    def start(self) -> None:
        with self._lock:
            self.enabled = True
            if self._spare is None or not self._spare.process.is_alive():
                self._spare = self._spawn()

    def _spawn(self) -> Spare:
        import os

        ctx = mp.get_context("spawn")
        jobs, events, cancel = ctx.Queue(), ctx.Queue(), ctx.Event()
        process = ctx.Process(target=_warm_main, args=(jobs, events, cancel, os.getpid()), name="tutor-run-spare",
                              daemon=True)
        process.start()
        return Spare(process, jobs, events, cancel)

    def take(self) -> Spare | None:
        """The waiting spare (it now belongs to the caller), or None when there is none."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None and not spare.process.is_alive():
            return None
        return spare

    def refill(self) -> None:
        """After a run: make the next spare, if warm runs are on."""
        if self.enabled:
            self.start()

    def stop(self) -> None:
        with self._lock:
            self.enabled = False
            spare, self._spare = self._spare, None
        if spare is not None:
            try:
                spare.jobs.put(None)
                spare.process.join(5)
            finally:
                if spare.process.is_alive():
                    spare.process.kill()


POOL = WarmPool()


def prewarm() -> None:
    """Keep one warm spare from now on (call once from a long-lived face)."""
    POOL.start()
