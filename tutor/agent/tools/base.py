"""What every tool gets (``ToolContext``) and gives back (``ToolOutput``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel, Field

from tutor.agent.ask import SourceRef
from tutor.config import Settings


@dataclass
class ToolContext:
    settings: Settings
    memory: Any  # tutor.agent.memory.Memory
    user: str
    session_id: str
    emit: Callable[[Any], None] = lambda event: None  # progress events go out through this
    cancel: threading.Event = field(default_factory=threading.Event)
    retriever: Any | None = None  # knowledge retriever (None = the default knowledge search)
    deadline: float | None = None  # time.monotonic() after which the turn must stop


class ToolOutput(BaseModel):
    ok: bool = Field(True, description="False when the tool could not do its job; `message` says why.")
    message: str = Field("", description="One plain line about the outcome.")
    result: dict[str, Any] = Field(default_factory=dict, description="Plain JSON data for faces and --json.")
    reply: str = Field("", description="Text for the learner; its [n] markers match `citations`.")
    citations: list[SourceRef] = Field(default_factory=list, description="Passages cited in `reply`.")


def search_passages(ctx: ToolContext, query: str, *, top_k: int = 3, feed: str | None = None):
    """Knowledge passages for a tool (Citation records), through the context's retriever."""
    if ctx.retriever is None:
        from knowledge.retrieve import search

        return list(search(query, top_k=top_k, feed=feed))
    fn = getattr(ctx.retriever, "search", ctx.retriever)
    return list(fn(query, top_k=top_k, feed=feed))


def as_ref(n: int, passage: Any) -> SourceRef:
    return SourceRef(n=n, source=passage.source, title=passage.title, section=passage.section,
                     text=passage.text, url=passage.url)
