"""The OpenAI-compatible client backend against a real server: llama-cpp-python's own, on the tiny model."""

from __future__ import annotations

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from tutor.errors import TutorError
from tutor.llm.backends.openai_compat import OpenAICompatLLM

pytestmark = pytest.mark.integration

QUESTION = [ChatMessage(role=MessageRole.USER, content="Name three colours.")]


@pytest.fixture(scope="module")
def client_llm(openai_server):
    return OpenAICompatLLM(openai_server, max_new_tokens=16, temperature=0.0, context_window=2048)


def test_model_name_is_discovered_from_the_server(client_llm):
    assert client_llm.served_models() == ["smollm2-135m"]
    client_llm.complete("Hi", formatted=True, max_tokens=1)
    assert client_llm.metadata.model_name == "smollm2-135m"


def test_chat(client_llm):
    reply = client_llm.chat(QUESTION)
    assert reply.message.role == MessageRole.ASSISTANT and reply.message.content.strip()


def test_completion_agrees_with_the_in_process_backend(client_llm, tiny_llm):
    prompt = "1, 2, 3, 4, 5, 6,"
    remote = client_llm.complete(prompt, formatted=True, max_tokens=6).text
    # Same GGUF, greedy decoding: the server and the in-process backend continue the same way.
    assert remote.startswith(" 7, 8")
    assert tiny_llm.complete(prompt, formatted=True, max_tokens=6).text.startswith(" 7, 8")


def test_streaming_is_incremental(client_llm):
    chunks = list(client_llm.stream_chat(QUESTION, max_tokens=12))
    deltas = [c.delta for c in chunks if c.delta]
    assert len(deltas) >= 3
    assert "".join(deltas) == chunks[-1].message.content
    done = list(client_llm.stream_complete("Once upon a time", formatted=True, max_tokens=8))
    assert len(done) >= 3 and "".join(c.delta for c in done) == done[-1].text


def test_stop_and_max_tokens(client_llm):
    free = client_llm.complete("Count: 1, 2, 3, 4, 5, 6, 7,", formatted=True, max_tokens=16).text
    assert "9" in free  # the model counts on, so the stop below is meaningful
    stopped = client_llm.complete("Count: 1, 2, 3, 4, 5, 6, 7,", formatted=True, max_tokens=16, stop=["9"]).text
    assert "9" not in stopped and free.startswith(stopped)
    short = client_llm.complete("Write a long story about a robot.", max_tokens=4).text
    assert short.strip() and len(short.split()) <= 4


def test_early_close_then_next_request_works(client_llm):
    stream = client_llm.stream_complete("Count to one hundred: 1, 2,", formatted=True, max_tokens=200)
    assert next(stream).delta is not None
    stream.close()
    assert client_llm.complete("Hi", formatted=True, max_tokens=2).text is not None


def test_tools_are_sent_and_the_reply_is_well_formed(client_llm):
    from llama_index.core.tools import FunctionTool

    def run_experiment(kind: str) -> str:
        """Train a small network of the given kind."""
        return kind

    reply = client_llm.chat_with_tools([FunctionTool.from_defaults(fn=run_experiment)], user_msg="Run a CNN.", max_tokens=16)
    assert isinstance(reply.message.additional_kwargs["tool_calls"], list)
    for sel in client_llm.get_tool_calls_from_response(reply, error_on_no_tool_call=False):
        assert sel.tool_name == "run_experiment"


def test_native_tool_calls_are_normalised(client_llm):
    # What vLLM's hermes parser sends back: OpenAI tool_calls with JSON-string arguments.
    native = [{"id": "call_1", "type": "function", "function": {"name": "run_experiment", "arguments": '{"kind": "rnn"}'}},
              {"id": "call_2", "type": "function", "function": {"name": "nope", "arguments": "{}"}}]
    specs = [{"type": "function", "function": {"name": "run_experiment", "parameters": {}}}]
    reply = client_llm._final_with_tools("", specs, native, "tool_calls")
    (call,) = reply.message.additional_kwargs["tool_calls"]
    assert (call.name, call.arguments, call.id) == ("run_experiment", {"kind": "rnn"}, "call_1")
    assert any("nope" in p for p in reply.message.additional_kwargs["tool_problems"])


def test_unreachable_server_is_one_clear_line():
    from tests.llm.conftest import free_port

    llm = OpenAICompatLLM(f"http://127.0.0.1:{free_port()}/v1", model_name="x", max_new_tokens=4)
    with pytest.raises(TutorError, match="cannot reach the model server"):
        llm.complete("hi")
