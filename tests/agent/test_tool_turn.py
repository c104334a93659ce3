"""The tool-call retry policy: repair, ask once more, or answer without tools.

The policy is tested with a scripted model: a real tutor backend (``TutorLLM``: the same chat
plumbing and tool-call parser as llama.cpp) whose only fake part is the generation, which
replies from a script and records every request. That makes the number of model calls, and
what each one was shown, exact. One test then runs the real tiny model through the same turn.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.tools import FunctionTool
from pydantic import PrivateAttr

from tutor.agent.tool_turn import MAX_TOOL_RETRIES, chat_with_tools, tool_names_of
from tutor.llm.backends.base import GenOptions, Piece, TutorLLM


def search_knowledge(query: str) -> str:
    """Search the deep-learning knowledge base for passages about ``query``."""
    return f"results for {query}"


def run_experiment(recipe: str, epochs: int = 1) -> str:
    """Train a small model with a named recipe for some epochs and report the curves."""
    return f"ran {recipe} for {epochs}"


TOOLS = [FunctionTool.from_defaults(fn=search_knowledge), FunctionTool.from_defaults(fn=run_experiment)]
MESSAGES = [
    ChatMessage(role=MessageRole.SYSTEM, content="You are a tutor. Use a tool when it helps."),
    ChatMessage(role=MessageRole.USER, content="Search the knowledge base for dropout, please."),
]

GOOD_CALL = '<tool_call>{"name": "search_knowledge", "arguments": {"query": "dropout"}}</tool_call>'
UNKNOWN_TOOL = '<tool_call>{"name": "delete_everything", "arguments": {}}</tool_call>'
# Beyond repair (a truncated object like `{"name": "search_knowledge", "arguments": ` is repaired).
NOT_AN_OBJECT = '<tool_call>{"name": "search_knowledge", "arguments": [1, 2]}</tool_call>'
PLAIN = "Dropout randomly zeroes activations during training."


class ScriptedLLM(TutorLLM):
    """A tutor backend that replies with the next scripted text and records each request."""

    _script: list[str] = PrivateAttr(default_factory=list)
    _requests: list[dict] = PrivateAttr(default_factory=list)

    def __init__(self, *replies: str) -> None:
        super().__init__(model_name="scripted")
        self._script = list(replies)

    @property
    def requests(self) -> list[dict]:
        return self._requests

    def _generate(self, *, messages, prompt, tools, options: GenOptions) -> Iterator[Piece]:
        self._requests.append({"messages": messages, "tools": tools})
        if not self._script:
            raise AssertionError(f"the model was called {len(self._requests)} times; the script had fewer replies")
        yield Piece(text=self._script.pop(0), finish_reason="stop")

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_tool_names_are_read_from_llama_index_tools():
    assert tool_names_of(TOOLS) == {"search_knowledge", "run_experiment"}


def test_a_usable_call_takes_one_model_call():
    llm = ScriptedLLM(GOOD_CALL)
    turn = chat_with_tools(llm, MESSAGES, TOOLS)
    assert len(llm.requests) == 1 and turn.attempts == 1
    (call,) = turn.calls
    assert (call.name, call.arguments) == ("search_knowledge", {"query": "dropout"})
    assert turn.problems == [] and not turn.gave_up_on_tools
    assert {t["function"]["name"] for t in llm.requests[0]["tools"]} == {"search_knowledge", "run_experiment"}


def test_a_plain_answer_takes_one_model_call():
    llm = ScriptedLLM(PLAIN)
    turn = chat_with_tools(llm, MESSAGES, TOOLS)
    assert len(llm.requests) == 1 and turn.attempts == 1
    assert turn.content == PLAIN and turn.calls == [] and turn.problems == []


def test_an_unusable_call_is_retried_once_with_the_problem_shown():
    llm = ScriptedLLM(UNKNOWN_TOOL, GOOD_CALL)
    turn = chat_with_tools(llm, MESSAGES, TOOLS)
    assert len(llm.requests) == 2 and turn.attempts == 2
    assert [c.name for c in turn.calls] == ["search_knowledge"] and not turn.gave_up_on_tools
    (problem,) = turn.problems
    assert "delete_everything" in problem
    # The retry shows the model its own reply and what was wrong with it, and offers the tools again.
    retry = llm.requests[1]["messages"]
    assert len(retry) == len(MESSAGES) + 2
    assert retry[-2]["role"] == "assistant" and "delete_everything" in str(retry[-2]["content"])
    assert retry[-1]["role"] == "user"
    assert "delete_everything" in retry[-1]["content"] and "run_experiment, search_knowledge" in retry[-1]["content"]
    assert llm.requests[1]["tools"]


def test_two_unusable_calls_end_in_one_answer_without_tools():
    llm = ScriptedLLM(UNKNOWN_TOOL, NOT_AN_OBJECT, PLAIN)
    turn = chat_with_tools(llm, MESSAGES, TOOLS)
    # One call, one retry (MAX_TOOL_RETRIES = 1), then one call without tools: exactly three.
    assert MAX_TOOL_RETRIES == 1
    assert len(llm.requests) == 3 and turn.attempts == 3
    assert turn.gave_up_on_tools and turn.calls == [] and turn.content == PLAIN
    assert len(turn.problems) == 2
    assert "delete_everything" in turn.problems[0] and "not a JSON object" in turn.problems[1]
    assert llm.requests[0]["tools"] and llm.requests[1]["tools"]
    # The last request is the original conversation, with no tools offered.
    assert llm.requests[2]["tools"] is None
    assert [m["content"] for m in llm.requests[2]["messages"]] == [m.content for m in MESSAGES]


@pytest.mark.parametrize("retries, calls", [(0, 2), (2, 4)])
def test_the_retry_budget_sets_the_number_of_model_calls(retries, calls):
    llm = ScriptedLLM(*[UNKNOWN_TOOL] * (retries + 1), PLAIN)
    turn = chat_with_tools(llm, MESSAGES, TOOLS, max_retries=retries)
    assert len(llm.requests) == calls and turn.attempts == calls and turn.gave_up_on_tools


@pytest.fixture(scope="module")
def one_thread_tiny_llm():
    """SmolLM2-135M on one llama.cpp thread. The agent fixture's model uses every core, and on a
    shared 2-core machine its threads wait on each other (this test: 2.7 s quiet, 20-30 s busy)."""
    from tutor.config import Settings
    from tutor.llm.backends.llamacpp import LlamaCppLLM
    from tutor.llm.model_files import gguf_path
    from tutor.llm.presets import get_preset

    llm = LlamaCppLLM(gguf_path(get_preset("smollm2-135m"), Settings(), progress=False), n_threads=1,
                      context_window=2048, max_new_tokens=48, temperature=0.0, model_name="smollm2-135m")
    yield llm
    llm.close()


def test_turn_with_the_real_tiny_model_reports_its_model_calls_exactly(one_thread_tiny_llm):
    tiny_llm = one_thread_tiny_llm
    # Whatever the 135M model writes, the turn must not raise, and `attempts` must be the
    # number of generations it really ran (counted at the model, not trusted from the turn).
    made: list[bool] = []

    class Counted:
        def chat(self, messages, **kwargs):
            made.append(bool(kwargs.get("tools")))
            return tiny_llm.chat(messages, **kwargs)

    turn = chat_with_tools(Counted(), MESSAGES, TOOLS)
    assert turn.attempts == len(made)
    # Tools are offered on every attempt but a last one that gave up on them.
    assert made == [True] * (len(made) - 1) + [not turn.gave_up_on_tools]
    assert len(turn.problems) >= len(made) - 1
    assert all(c.name in {"search_knowledge", "run_experiment"} and isinstance(c.arguments, dict) for c in turn.calls)
