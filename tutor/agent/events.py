"""The typed events one conversation turn yields; the CLI and the page only render these.

A turn always ends with exactly one ``answer`` or ``error`` event. In between:

    passages       the knowledge passages the answer may cite (numbered as in the answer)
    token          a piece of answer text, as it streams
    tool_call      the agent decided to use a tool (and which defaults it filled in)
    tool_progress  a running tool's progress (an experiment's epoch, loss, accuracy)
    tool_result    what the tool returned (run id, metrics, diagnosis; a quiz question; ...)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, TypeAdapter

from tutor.agent.ask import SourceRef


class TokenEvent(BaseModel):
    type: Literal["token"] = "token"
    text: str = Field(description="New answer text since the previous token event.")


class PassagesEvent(BaseModel):
    type: Literal["passages"] = "passages"
    passages: list[SourceRef] = Field(default_factory=list, description="Passages given to the model, numbered [n].")


class ToolCallEvent(BaseModel):
    type: Literal["tool_call"] = "tool_call"
    name: str = Field(description="Tool name, e.g. 'run_experiment'.")
    arguments: dict[str, Any] = Field(default_factory=dict, description="Arguments taken from the learner's words.")
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="Values the learner did not give, filled from the tool's defaults."
    )


class ToolProgressEvent(BaseModel):
    type: Literal["tool_progress"] = "tool_progress"
    name: str = Field(description="Tool that reports progress.")
    run_id: str | None = Field(None, description="Experiment run id, for run_experiment.")
    stage: str = Field("train", description="setup | train | save | epoch")
    epoch: int | None = Field(None, description="Epoch just finished (1-based).")
    total_epochs: int | None = Field(None, description="Epochs planned, when the recipe has epochs.")
    metrics: dict[str, float | None] = Field(default_factory=dict, description="e.g. train_loss, val_loss, val_accuracy.")


class ToolResultEvent(BaseModel):
    type: Literal["tool_result"] = "tool_result"
    name: str = Field(description="Tool that finished.")
    ok: bool = Field(True, description="False when the tool failed or was cancelled; `message` says why.")
    message: str = Field("", description="One plain line about the outcome.")
    result: dict[str, Any] = Field(default_factory=dict, description="The tool's output as plain JSON data.")


class ToolCallRecord(BaseModel):
    """A finished tool call, as ``tutor ask --json`` reports it."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] = Field(default_factory=dict)


class AnswerEvent(BaseModel):
    type: Literal["answer"] = "answer"
    session_id: str = Field(description="The conversation this turn belongs to.")
    mode: Literal["explain", "guide"] = Field(description="The session's mode for this turn.")
    text: str = Field(description="The whole reply; its [n] markers match `citations`.")
    citations: list[SourceRef] = Field(default_factory=list, description="Cited passages, numbered as in the text.")
    sources: list[SourceRef] = Field(default_factory=list, description="Passages used but not cited inline.")
    tool_calls: list[ToolCallRecord] = Field(default_factory=list, description="Tools used in this turn.")
    model: str = Field("none", description="Model that wrote the text ('none' when no model was needed).")
    latency_s: float = Field(0.0, description="Wall time of the turn, seconds.")
    ttft_s: float | None = Field(None, description="Seconds to the first text token.")
    grounded: bool = Field(False, description="True when the text is based on retrieved passages.")
    route: str = Field("none", description="The router's decision for this message.")
    extra: dict[str, Any] = Field(default_factory=dict, description="Fields of the underlying answer (ask's contract).")


class ErrorEvent(BaseModel):
    type: Literal["error"] = "error"
    message: str = Field(description="One readable line; the conversation can go on.")
    session_id: str | None = None


Event = Annotated[
    Union[TokenEvent, PassagesEvent, ToolCallEvent, ToolProgressEvent, ToolResultEvent, AnswerEvent, ErrorEvent],
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter = TypeAdapter(Event)
