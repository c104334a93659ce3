"""The tool-call retry policy with the real tiny model: repair, ask once more, or answer without tools."""

from __future__ import annotations

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.tools import FunctionTool

from tutor.agent.tool_turn import chat_with_tools, tool_names_of


def search_knowledge(query: str) -> str:
    """Search the deep-learning knowledge base for passages about ``query``."""
    return f"results for {query}"


def run_experiment(recipe: str, epochs: int = 1) -> str:
    """Train a small model with a named recipe for some epochs and report the curves."""
    return f"ran {recipe} for {epochs}"


TOOLS = [FunctionTool.from_defaults(fn=search_knowledge), FunctionTool.from_defaults(fn=run_experiment)]


def test_tool_names_are_read_from_llama_index_tools():
    assert tool_names_of(TOOLS) == {"search_knowledge", "run_experiment"}


def test_turn_with_the_tiny_model_never_raises_and_respects_the_retry_budget(tiny_llm):
    messages = [
        ChatMessage(role=MessageRole.SYSTEM, content="You are a tutor. Use a tool when it helps."),
        ChatMessage(role=MessageRole.USER, content="Search the knowledge base for dropout, please."),
    ]
    turn = chat_with_tools(tiny_llm, messages, TOOLS)
    assert 1 <= turn.attempts <= 3
    assert all(c.name in {"search_knowledge", "run_experiment"} and isinstance(c.arguments, dict) for c in turn.calls)
    if turn.gave_up_on_tools:
        assert turn.attempts == 3 and not turn.calls and len(turn.problems) >= 2
    else:
        assert turn.calls or turn.content.strip()
