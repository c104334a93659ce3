"""The record of one run: what ``metrics.json`` in its run folder holds, exactly."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tutor.io import json_safe

Status = Literal["ok", "failed", "timeout", "memory", "cancelled"]
METRICS_FILE = "metrics.json"


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
        """Strict JSON: a diverged (nan) loss becomes null; the diagnosis has already noted it."""
        return json_safe(self.model_dump())
