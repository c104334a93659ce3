"""``run_experiment``: launch a lab recipe through the runner, stream its epochs, explain the result.

The recipe's own pydantic parameter model validates the arguments (never a copy of it); the
runner keeps its isolation (own process, wall-time and memory caps, cancel).
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from tutor.agent.events import ToolProgressEvent
from tutor.agent.tools.base import ToolContext, ToolOutput
from tutor.agent.tools.runs import explain_record
from tutor.errors import TutorError

NAME = "run_experiment"
#: Keys of an epoch event that are bookkeeping, not metrics.
_NOT_METRICS = {"type", "epoch", "run_id", "elapsed_s", "stage"}


def recipe_kinds() -> list[str]:
    from tutor.lab.catalog import cards

    return sorted(cards())


class RunExperimentArgs(BaseModel):
    """Train one of the lab's recipes (cnn, rnn, mlp-uat, backprop, activations, optimizers, overfitting,
    timeseries) with the parameters the learner gave; every other parameter keeps the recipe's default."""

    kind: str = Field(description="Which recipe to run, e.g. 'cnn' or 'rnn'.")
    params: dict[str, Any] = Field(default_factory=dict, description="Only the parameters the learner stated.")
    _validated: Any = PrivateAttr(None)

    @model_validator(mode="after")
    def _check(self) -> "RunExperimentArgs":
        # The one validation of a run's parameters (the lab's catalog, with the recipe's own model);
        # the validated model is kept and handed to the runner, which does not check it again.
        from tutor.lab.catalog import validate_params

        try:
            self._validated = validate_params(self.kind, self.params)
        except TutorError as exc:
            raise ValueError(str(exc)) from None
        return self

    def defaults_used(self) -> dict[str, Any]:
        from tutor.lab.catalog import get_recipe

        full = get_recipe(self.kind).Params().model_dump()
        return {k: v for k, v in full.items() if k not in self.params}


def run_experiment(args: RunExperimentArgs, ctx: ToolContext) -> ToolOutput:
    from tutor.lab.runner import start_run

    total = (args.params.get("epochs") or args.defaults_used().get("epochs"))

    def relay(event: dict) -> None:
        kind = event.get("type")
        if kind == "epoch":
            metrics = {k: v for k, v in event.items() if k not in _NOT_METRICS and isinstance(v, (int, float))}
            ctx.emit(ToolProgressEvent(name=NAME, run_id=event.get("run_id"), stage="epoch", epoch=event.get("epoch"),
                                       total_epochs=total, metrics=metrics))
        elif kind == "status":
            ctx.emit(ToolProgressEvent(name=NAME, run_id=event.get("run_id"), stage=str(event.get("stage", "")),
                                       total_epochs=total))

    max_seconds = None
    if ctx.deadline is not None:
        max_seconds = max(1.0, min(ctx.settings.lab_max_seconds, ctx.deadline - time.monotonic()))
    handle = start_run(args.kind, args._validated or args.params, settings=ctx.settings, on_event=relay,
                       max_seconds=max_seconds)
    ctx.memory.record_run(ctx.user, ctx.session_id, {"run_id": handle.run_id, "kind": handle.kind,
                                                     "status": "running", "params": handle.params})
    ctx.emit(ToolProgressEvent(name=NAME, run_id=handle.run_id, stage="start", total_epochs=total))
    while not handle.done:
        if ctx.cancel.is_set():
            handle.cancel()
        handle.wait(0.2)
    result = handle.result.to_json()
    ctx.memory.record_run(ctx.user, ctx.session_id, result)
    if result["status"] != "ok":
        return ToolOutput(ok=False, message=f"run {result['run_id']} ended: {result['status']}"
                          f" ({result.get('reason') or 'no reason given'})",
                          result=_summary(result))
    reply, citations = explain_record(result, ctx)
    return ToolOutput(message=f"run {result['run_id']} finished", result=_summary(result), reply=reply,
                      citations=citations)


def _summary(result: dict) -> dict[str, Any]:
    """What faces and --json get: the run id, its parameters, metrics, diagnosis and plots."""
    keys = ("run_id", "kind", "status", "reason", "params", "metrics", "diagnosis", "artifacts", "duration_s",
            "primary_metric", "history")
    return {k: result.get(k) for k in keys}
