"""The agent's tools: one file each, each with a pydantic argument model and a function.

The argument model's JSON schema is what a model that calls tools natively sees
(``openai_specs()``) and what every call's arguments are validated against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pydantic import BaseModel

from tutor.agent.tools.base import ToolContext, ToolOutput
from tutor.agent.tools.experiment import RunExperimentArgs, run_experiment
from tutor.agent.tools.progress import ProgressArgs, progress
from tutor.agent.tools.quiz import QuizArgs, grade, quiz
from tutor.agent.tools.runs import CompareRunsArgs, ExplainRunArgs, compare_runs, explain_run
from tutor.agent.tools.search import SearchArgs, search_knowledge


@dataclass(frozen=True)
class Tool:
    name: str
    args: type[BaseModel]
    run: Callable[[BaseModel, ToolContext], ToolOutput]

    def schema(self) -> dict:
        return {"type": "function", "function": {"name": self.name, "description": (self.args.__doc__ or "").strip(),
                                                 "parameters": self.args.model_json_schema()}}


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool("search_knowledge", SearchArgs, search_knowledge),
        Tool("run_experiment", RunExperimentArgs, run_experiment),
        Tool("explain_run", ExplainRunArgs, explain_run),
        Tool("compare_runs", CompareRunsArgs, compare_runs),
        Tool("quiz", QuizArgs, quiz),
        Tool("progress", ProgressArgs, progress),
    )
}


def openai_specs() -> list[dict]:
    """Every tool as an OpenAI-style function spec (for backends with native function calling)."""
    return [t.schema() for t in TOOLS.values()]


__all__ = ["TOOLS", "Tool", "ToolContext", "ToolOutput", "grade", "openai_specs"]
