"""The tool-call parser: known shapes, every malformed shape we have seen, and a fuzz."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutor.llm.toolcalls import ToolParse, parse_tool_calls, render_tool_call

TOOLS = {"search", "run_experiment"}


def test_single_call_with_prose_around():
    text = 'Let me look.\n<tool_call>\n{"name": "search", "arguments": {"query": "dropout"}}\n</tool_call>\nDone.'
    out = parse_tool_calls(text, TOOLS)
    assert [c.name for c in out.calls] == ["search"]
    assert out.calls[0].arguments == {"query": "dropout"}
    assert out.content == "Let me look.\nDone."
    assert out.problems == []


def test_several_calls_keep_order_and_distinct_ids():
    text = (
        '<tool_call>{"name": "search", "arguments": {"query": "a"}}</tool_call>'
        '<tool_call>{"name": "run_experiment", "arguments": {"recipe": "cnn", "epochs": 2}}</tool_call>'
        '<tool_call>{"name": "search", "arguments": {"query": "a"}}</tool_call>'
    )
    out = parse_tool_calls(text, TOOLS)
    assert [c.name for c in out.calls] == ["search", "run_experiment", "search"]
    assert out.calls[1].arguments == {"recipe": "cnn", "epochs": 2}
    assert len({c.id for c in out.calls}) == 3
    assert out.content == ""


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "search", "arguments": {"query": "lstm",}}',  # trailing comma
        "{'name': 'search', 'arguments': {'query': 'lstm'}}",  # single quotes
        '{name: "search", arguments: {query: "lstm"}}',  # unquoted keys
        '{"name": "search", "arguments": "{\\"query\\": \\"lstm\\"}"}',  # arguments as a JSON string
        '{"name": "search", "parameters": {"query": "lstm"}}',  # 'parameters' alias
        '```json\n{"name": "search", "arguments": {"query": "lstm"}}\n```',  # fenced inside the tag
        '{"function": {"name": "search", "arguments": "{\\"query\\": \\"lstm\\"}"}}',  # OpenAI shape
    ],
)
def test_repairs_common_malformations(body):
    out = parse_tool_calls(f"<tool_call>{body}</tool_call>", TOOLS)
    assert [(c.name, c.arguments) for c in out.calls] == [("search", {"query": "lstm"})], out


def test_missing_closing_brace_and_tag():
    out = parse_tool_calls('<tool_call>{"name": "search", "arguments": {"query": "rnn"', TOOLS)
    assert [(c.name, c.arguments) for c in out.calls] == [("search", {"query": "rnn"})]


def test_unclosed_tag_followed_by_prose_keeps_the_prose():
    out = parse_tool_calls('<tool_call>{"name": "search", "arguments": {"query": "x"}} I will now wait.', TOOLS)
    assert [c.name for c in out.calls] == ["search"]
    assert out.content == "I will now wait."


def test_unknown_tool_is_a_problem_not_a_call():
    out = parse_tool_calls('<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call>', TOOLS)
    assert out.calls == []
    assert len(out.problems) == 1 and "rm_rf" in out.problems[0] and "search" in out.problems[0]


@pytest.mark.parametrize(
    "text",
    [
        "<tool_call></tool_call>",
        "<tool_call>[1, 2, 3]</tool_call>",
        "<tool_call>just words</tool_call>",
        '<tool_call>{"arguments": {}}</tool_call>',
        '<tool_call>{"name": "search", "arguments": [1, 2]}</tool_call>',
        '<tool_call>{"name": "search", "arguments": "not json at all"}</tool_call>',
    ],
)
def test_unusable_calls_are_problems(text):
    out = parse_tool_calls(text, TOOLS)
    assert out.calls == [] and len(out.problems) >= 1


def test_bare_json_and_fenced_reply_are_calls():
    bare = parse_tool_calls('{"name": "search", "arguments": {"query": "gan"}}', TOOLS)
    fenced = parse_tool_calls('```json\n{"name": "search", "arguments": {"query": "gan"}}\n```', TOOLS)
    for out in (bare, fenced):
        assert [(c.name, c.arguments) for c in out.calls] == [("search", {"query": "gan"})]
        assert out.content == ""


def test_json_that_is_not_a_call_stays_prose():
    out = parse_tool_calls('{"lr": 0.01, "epochs": 3}', TOOLS)
    assert out.calls == [] and out.problems == [] and out.content == '{"lr": 0.01, "epochs": 3}'


def test_plain_prose_and_partial_tag_at_end():
    assert parse_tool_calls("Dropout zeroes units at random.", TOOLS).content == "Dropout zeroes units at random."
    out = parse_tool_calls("Let me check <tool_c", TOOLS)
    assert out.content == "Let me check" and out.calls == []


def test_non_string_input_does_not_raise():
    assert parse_tool_calls(None, TOOLS).content == ""  # type: ignore[arg-type]
    assert parse_tool_calls(b"bytes", TOOLS).calls == []  # type: ignore[arg-type]


# --- fuzz -----------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
arguments = st.dictionaries(st.text(max_size=10), json_values, max_size=5)
names = st.sampled_from(sorted(TOOLS))
prose = st.text(max_size=40).filter(lambda s: "<tool_call" not in s and "</tool_call" not in s)

# About 3,500 generated replies in all; ~20 s on a quiet core.
FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_invariants(out: ToolParse) -> None:
    assert isinstance(out, ToolParse)
    for call in out.calls:
        assert call.name in TOOLS
        assert isinstance(call.arguments, dict)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(prose, names, arguments), min_size=1, max_size=3), prose)
def test_valid_calls_round_trip_exactly(parts, tail):
    text = "".join(p + render_tool_call(n, a) for p, n, a in parts) + tail
    out = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in out.calls] == [(n, a) for _, n, a in parts]
    assert out.problems == []


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names, arguments, st.data())
def test_truncated_valid_calls_never_raise(name, args, data):
    full = render_tool_call(name, args)
    cut = data.draw(st.integers(min_value=0, max_value=len(full)))
    _check_invariants(parse_tool_calls(full[:cut], TOOLS))


_fragments = st.sampled_from(
    ["<tool_call>", "</tool_call>", "{", "}", "[", "]", '"', "'", ":", ",", "name", '"name"', "arguments",
     '"search"', "run_experiment", "```json\n", "```", "\\", "null", "1e999", "\n", "🙂", "\u0000", "\ud800"]
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_fragments, st.text(max_size=6)), max_size=40))
def test_random_fragments_never_raise(fragments):
    _check_invariants(parse_tool_calls("".join(fragments), TOOLS))


@FUZZ
@given(st.integers(min_value=1, max_value=3000))
def test_deeply_nested_braces_never_raise(depth):
    for text in ("<tool_call>" + "{" * depth, "<tool_call>" + '{"a":' * depth + "1" + "}" * depth + "</tool_call>"):
        _check_invariants(parse_tool_calls(text, TOOLS))


@FUZZ
@given(st.text(max_size=300))
def test_random_unicode_never_raises(text):
    _check_invariants(parse_tool_calls(text, TOOLS))
    _check_invariants(parse_tool_calls("<tool_call>" + text, TOOLS))


def test_huge_reply_is_refused_quickly():
    text = "<tool_call>{" + '"a": 1, ' * 20_000 + "</tool_call>"
    out = parse_tool_calls(text, TOOLS)
    assert out.calls == [] and "too long" in out.problems[0]


def test_round_trip_of_unicode_arguments_is_exact():
    args = {"query": "naïve Bayes – 日本語 🙂", "k": 3, "nested": {"x": [1.5, None, True]}}
    out = parse_tool_calls("ok " + render_tool_call("search", args), TOOLS)
    assert out.calls[0].arguments == args and json.dumps(out.calls[0].arguments) == json.dumps(args)
