"""Shared backend plumbing: message conversion, tool specs, hiding raw tool-call text from the stream."""

from __future__ import annotations

import json

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock

from tutor.errors import TutorError
from tutor.llm.backends.base import _ToolTagHoldback, to_dict_messages, tool_specs
from tutor.llm.backends.tool_prompt import inline_tools


def _stream_through(pieces: list[str]) -> str:
    hold, text, shown = _ToolTagHoldback(), "", ""
    for p in pieces:
        text += p
        shown += hold.visible_delta(text)
    return shown


@pytest.mark.parametrize(
    "pieces",
    [
        ["Let me run it. ", "<tool", "_call>", '{"name": "x"}', "</tool_call>"],
        ["Let me run it. <", "tool_call>{", "}"],
        ["Let me run it. <tool_call>"],
    ],
)
def test_holdback_shows_prose_and_hides_the_call(pieces):
    assert _stream_through(pieces) == "Let me run it. "


def test_holdback_releases_a_lone_angle_bracket_that_is_not_a_tag():
    assert _stream_through(["a <", "b> c"]) == "a <b> c"


def test_tool_specs_accept_llama_index_tools_and_dicts():
    from llama_index.core.tools import FunctionTool

    def run_experiment(kind: str) -> str:
        """Run one experiment."""
        return kind

    specs = tool_specs([FunctionTool.from_defaults(fn=run_experiment), {"name": "search", "parameters": {}}])
    assert [s["function"]["name"] for s in specs] == ["run_experiment", "search"]
    assert specs[0]["function"]["parameters"]["properties"]["kind"]["type"] == "string"
    with pytest.raises(TutorError):
        tool_specs([42])


def test_history_with_tool_calls_converts_for_templates_and_for_the_openai_api():
    call = ToolCallBlock(tool_call_id="call_1", tool_name="run_experiment", tool_kwargs={"kind": "cnn"})
    history = [
        ChatMessage(role=MessageRole.DEVELOPER, content="be brief"),
        ChatMessage(role=MessageRole.ASSISTANT, blocks=[call]),
        ChatMessage(role=MessageRole.TOOL, content="acc 0.9", additional_kwargs={"tool_call_id": "call_1", "name": "run_experiment"}),
    ]
    for_template = to_dict_messages(history, arguments_as_json=False)
    assert for_template[0]["role"] == "system"
    assert for_template[1]["tool_calls"][0]["function"] == {"name": "run_experiment", "arguments": {"kind": "cnn"}}
    assert for_template[2] == {"role": "tool", "content": "acc 0.9", "tool_call_id": "call_1", "name": "run_experiment"}
    for_api = to_dict_messages(history, arguments_as_json=True)
    assert json.loads(for_api[1]["tool_calls"][0]["function"]["arguments"]) == {"kind": "cnn"}


def test_inline_tools_for_templates_without_a_tool_block():
    msgs = [
        {"role": "user", "content": "run a cnn"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "run_experiment", "arguments": {"kind": "cnn"}}}]},
        {"role": "tool", "content": "acc 0.9"},
    ]
    out = inline_tools(msgs, [{"type": "function", "function": {"name": "run_experiment"}}])
    assert out[0]["role"] == "system" and "run_experiment" in out[0]["content"]
    assert '"kind": "cnn"' in out[2]["content"] and "<tool_call>" in out[2]["content"]
    assert out[3] == {"role": "user", "content": "<tool_response>\nacc 0.9\n</tool_response>"}
