"""Terminal rendering of the agent's events, shared by `tutor ask` and `tutor chat`.

Only presentation lives here: text streams to stdout, experiment progress and timings to
stderr (so `tutor ask ... > answer.txt` keeps just the answer), sources listed after the text.
"""

from __future__ import annotations

import sys
from typing import Any


class TerminalRenderer:
    def __init__(self, out=sys.stdout, err=sys.stderr):
        self.out, self.err = out, err
        self._progress_open = False

    def __call__(self, event: Any) -> None:
        kind = event.type
        if kind == "token":
            self._end_progress()
            self.out.write(event.text)
            self.out.flush()
        elif kind == "tool_call" and event.name == "run_experiment":
            args = ", ".join(f"{k}={v}" for k, v in event.arguments.items())
            print(f"running experiment: {args}", file=self.err)
        elif kind == "tool_progress" and event.stage == "epoch":
            metrics = "  ".join(f"{k} {v:.4g}" for k, v in event.metrics.items() if isinstance(v, (int, float)))
            total = f"/{event.total_epochs}" if event.total_epochs else ""
            self.err.write(f"\r  epoch {event.epoch}{total}  {metrics}   ")
            self.err.flush()
            self._progress_open = True
        elif kind == "tool_result" and not event.ok:
            self._end_progress()
            print(f"  {event.name}: {event.message}", file=self.err)
        elif kind == "answer":
            self._end_progress()
            self.out.write("\n")
            refs = event.citations or event.sources
            if refs:
                print("\nSources cited:" if event.citations else
                      "\nSources (the answer cites none inline; these are the passages it was given):", file=self.out)
                for r in refs:
                    where = " › ".join(x for x in (r.title, r.section) if x)
                    print(f"  [{r.n}] {where} ({r.source})" if where else f"  [{r.n}] {r.source}", file=self.out)
            print(f"\n{event.model} · {event.latency_s:.1f} s · session {event.session_id}", file=self.err)
        elif kind == "error":
            self._end_progress()
            print(f"error: {event.message}", file=self.err)

    def _end_progress(self) -> None:
        if self._progress_open:
            self.err.write("\n")
            self._progress_open = False
