"""Routing by the model's native function calling (tutor/agent/native_router.py).

The routing logic (rules first, grounded arguments, fallback) is checked with a scripted
function-calling model at the model boundary; the real path runs against llama-cpp-python's own
OpenAI-compatible server on the tiny model, where what it calls is up to the model but what the
router lets through must hold every time.
"""

from __future__ import annotations

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
from llama_index.core.llms.llm import ToolSelection

from tests.llm.conftest import free_port, openai_server, tiny_gguf  # noqa: F401 - session fixtures reused
from tutor.agent.native_router import NativeRouter, grounded, make_router
from tutor.agent.router import Router
from tutor.agent.tools import TOOLS
from tutor.config import Settings
from tutor.errors import TutorError


class ScriptedToolLLM:
    """The model boundary: answers every chat_with_tools with the scripted call (or none)."""

    def __init__(self, name: str | None, kwargs: dict | None = None, fail: bool = False):
        self.call = (name, kwargs or {})
        self.fail = fail
        self.seen: list[str] = []

    def chat_with_tools(self, tools, user_msg=None, **kw):
        self.seen.append(user_msg)
        assert {t.metadata.name for t in tools} == set(TOOLS)  # the model sees every tool's schema
        if self.fail:
            raise ConnectionError("server went away")
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=""))

    def get_tool_calls_from_response(self, response, error_on_no_tool_call=True):
        name, kwargs = self.call
        return [] if name is None else [ToolSelection(tool_id="1", tool_name=name, tool_kwargs=kwargs)]


def route(message: str, llm: ScriptedToolLLM, agent_env=None):
    return NativeRouter(Settings(), llm=lambda: llm).route(message)


def test_invented_arguments_are_dropped_and_stated_ones_kept():
    msg = "could I watch a convnet learn digits with a dropout of 0.3 over four passes"
    call = {"kind": "cnn", "params": {"dropout": 0.3, "epochs": 4, "lr": 0.01, "optimizer": "sgd"}}
    assert grounded("run_experiment", call, msg) == {"kind": "cnn", "dropout": 0.3, "epochs": 4}
    # A recipe the message does not name is not run on the model's word.
    assert grounded("run_experiment", {"kind": "rnn"}, msg) == {}
    assert grounded("explain_run", {"run_id": "cnn-20261203-101500-ab12"}, "explain my run") == {}
    assert grounded("search_knowledge", {"query": "dropout", "feed": "docs"}, "what is dropout?") == {
        "query": "what is dropout?"}


def test_the_model_decides_what_the_rules_leave_open(agent_env):
    llm = ScriptedToolLLM("run_experiment", {"kind": "cnn", "params": {"epochs": 4, "lr": 0.5}})
    decision = route("could I watch a convnet learn digits over four passes", llm)
    assert decision.tool == "run_experiment" and decision.arguments == {"kind": "cnn", "epochs": 4}
    assert llm.seen == ["could I watch a convnet learn digits over four passes"]


def test_rules_first_and_the_vote_when_the_model_gives_nothing_usable(agent_env):
    llm = ScriptedToolLLM("progress")
    assert route("quiz me on LSTMs", llm).tool == "quiz" and llm.seen == []  # a rule: no model call
    for silent in (ScriptedToolLLM(None), ScriptedToolLLM("rm_rf", {}), ScriptedToolLLM("quiz", fail=True)):
        decision = route("Could you explain what a residual connection is", silent)
        assert decision == Router(Settings()).route("Could you explain what a residual connection is").model_copy(
            update={"latency_s": decision.latency_s})


def test_native_needs_a_backend_with_function_calling():
    with pytest.raises(TutorError, match="router 'native' needs a backend with function calling"):
        make_router(Settings(router="native", llm_backend="llamacpp"), llm=lambda: None)
    assert isinstance(make_router(Settings(router="native", llm_backend="openai"), llm=lambda: None), NativeRouter)
    assert type(make_router(Settings(), llm=lambda: None)) is Router


@pytest.mark.slow
@pytest.mark.integration
def test_through_a_real_openai_compatible_server(openai_server, agent_env):  # noqa: F811
    from tutor.llm.backends.openai_compat import OpenAICompatLLM

    llm = OpenAICompatLLM(openai_server, max_new_tokens=48, temperature=0.0, context_window=2048)
    router = NativeRouter(Settings(router="native", llm_backend="openai"), llm=lambda: llm)
    from tutor.agent import arguments

    for message in ("could I watch a convnet learn digits over four passes",
                    "I'd like to see how sure you are that my recurrent net run went fine"):
        decision = router.route(message)
        assert decision.tool in (*TOOLS, "none")
        if decision.tool == "run_experiment":
            # Whatever the tiny model called, only the learner's recipe and values get through.
            args = dict(decision.arguments)
            assert args.pop("kind") == arguments.detect_kind(message)
            assert all(arguments.stated(v, message, k) for k, v in args.items())
