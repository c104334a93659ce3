"""One model turn that may call tools, with the retry policy for unusable calls.

Policy (issue 4): when the reply tried to call a tool but no call could be used (malformed
JSON beyond repair, an unknown tool, arguments that are not an object), the model is shown
what went wrong (``prompts.TOOL_RETRY``) and asked **once** more; if that fails too, it is
asked to answer without tools. Never raises because of what the model wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from tutor.agent import prompts

MAX_TOOL_RETRIES = 1


class ToolTurn(BaseModel):
    """What one turn produced."""

    content: str = Field("", description="Prose of the final reply (the answer when no tool is called).")
    calls: list[Any] = Field(default_factory=list, description="Usable tool calls (tutor.llm.toolcalls.ToolCall).")
    problems: list[str] = Field(default_factory=list, description="Problems of every failed attempt, in order.")
    attempts: int = Field(description="Model calls made in this turn (1 to 3).")
    gave_up_on_tools: bool = Field(False, description="True when the final reply was requested without tools.")


def tool_names_of(tools: Sequence[Any]) -> set[str]:
    names = set()
    for tool in tools:
        meta = getattr(tool, "metadata", None)
        if meta is not None and getattr(meta, "name", None):
            names.add(meta.name)
        elif isinstance(tool, dict):
            names.add((tool.get("function") or tool).get("name", ""))
    return {n for n in names if n}


def chat_with_tools(llm: Any, messages: Sequence[Any], tools: Sequence[Any], max_retries: int = MAX_TOOL_RETRIES) -> ToolTurn:
    """Ask ``llm`` (a tutor backend) for a reply that may call ``tools``; retry unusable calls once."""
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    history = list(messages)
    problems: list[str] = []
    attempts = 0
    for _ in range(max_retries + 1):
        attempts += 1
        response = llm.chat(history, tools=list(tools))
        extra = response.message.additional_kwargs or {}
        calls = list(extra.get("tool_calls") or [])
        failed = list(extra.get("tool_problems") or [])
        content = response.message.content or ""
        if calls or not failed:
            # Usable calls (possibly beside other failed ones), or a plain answer.
            return ToolTurn(content=content, calls=calls, problems=problems + failed, attempts=attempts)
        problems += failed
        history += [
            ChatMessage(role=MessageRole.ASSISTANT, content=extra.get("raw_text", content)),
            ChatMessage(role=MessageRole.USER, content=prompts.render_tool_retry(failed, tool_names_of(tools))),
        ]
    # Every attempt failed: answer the original question without tools.
    attempts += 1
    response = llm.chat(list(messages))
    return ToolTurn(
        content=response.message.content or "", problems=problems, attempts=attempts, gave_up_on_tools=True
    )
