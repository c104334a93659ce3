"""The llamacpp backend on the real tiny model (SmolLM2-135M), and one real tool call with the default model."""

from __future__ import annotations

import threading

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.tools import FunctionTool

from tests.llm.conftest import TINY_MAX_TOKENS

QUESTION = [ChatMessage(role=MessageRole.USER, content="Name three colours.")]


def run_experiment(kind: str) -> str:
    """Train a small neural network of the given kind (cnn, rnn or mlp) and report its learning curves."""
    return f"ran {kind}"


TOOLS = [FunctionTool.from_defaults(fn=run_experiment)]


def _n_tokens(llm, text: str) -> int:
    return llm.count_tokens(text)


def test_metadata_is_what_llama_index_needs(tiny_llm):
    meta = tiny_llm.metadata
    assert meta.is_chat_model and meta.is_function_calling_model
    assert meta.context_window == 2048 and meta.num_output == TINY_MAX_TOKENS
    assert meta.model_name == "smollm2-135m"


def test_chat_generates_text(tiny_llm):
    reply = tiny_llm.chat(QUESTION)
    assert reply.message.role == MessageRole.ASSISTANT
    assert reply.message.content and reply.message.content.strip()
    assert 0 < _n_tokens(tiny_llm, reply.message.content) <= TINY_MAX_TOKENS + 1
    assert not tiny_llm.busy


def test_complete_formatted_and_unformatted(tiny_llm):
    text = tiny_llm.complete("The capital of France is", formatted=True, max_tokens=6).text
    assert text.strip() and _n_tokens(tiny_llm, text) <= 7
    chat_style = tiny_llm.complete("Say hello.", max_tokens=8).text
    assert chat_style.strip()


def test_greedy_is_deterministic_from_a_cold_cache(tiny_llm):
    tiny_llm.reset_cache()
    a = tiny_llm.complete("List the days of the week:", formatted=True, max_tokens=12).text
    tiny_llm.reset_cache()
    b = tiny_llm.complete("List the days of the week:", formatted=True, max_tokens=12).text
    assert a == b


def test_stream_arrives_incrementally_and_adds_up(tiny_llm):
    tiny_llm.reset_cache()
    chunks = list(tiny_llm.stream_chat(QUESTION, max_tokens=16))
    assert len(chunks) >= 3  # token by token, not one block at the end
    deltas = "".join(c.delta for c in chunks)
    assert deltas == chunks[-1].message.content
    assert [len(c.message.content) for c in chunks] == sorted(len(c.message.content) for c in chunks)
    tiny_llm.reset_cache()  # same cache state as the streamed run, so greedy decoding gives the same text
    assert deltas == tiny_llm.chat(QUESTION, max_tokens=16).message.content


def _decode_steps(llm) -> int:
    """Tokens llama.cpp has decoded one at a time (generation) in this context so far."""
    import llama_cpp

    return llama_cpp.llama_perf_context(llm.llama._ctx.ctx).n_eval


def test_closing_a_stream_stops_decoding_and_frees_the_model(tiny_llm):
    before = _decode_steps(tiny_llm)
    stream = tiny_llm.stream_complete("Count from one to one hundred: one, two,", formatted=True, max_tokens=200)
    first = next(stream)
    assert first.delta and tiny_llm.busy
    stream.close()
    assert not tiny_llm.busy  # the lock is released as soon as the consumer leaves
    # The abandoned request stopped at its first token or so; it did not decode on towards 200.
    assert _decode_steps(tiny_llm) - before <= 2
    # The model is usable right away.
    assert _n_tokens(tiny_llm, tiny_llm.complete("Hi", formatted=True, max_tokens=2).text) >= 1


def test_stop_sequences_end_generation_before_the_stop(tiny_llm):
    prompt = "Count: 1, 2, 3, 4, 5, 6, 7,"
    tiny_llm.reset_cache()  # both runs from a cold cache, so greedy decoding gives the same tokens
    before = _decode_steps(tiny_llm)
    free = tiny_llm.complete(prompt, formatted=True, max_tokens=16).text
    free_steps = _decode_steps(tiny_llm) - before
    assert "10" in free  # the model really counts on, so the stop below is meaningful
    tiny_llm.reset_cache()
    before = _decode_steps(tiny_llm)
    stopped = tiny_llm.complete(prompt, formatted=True, max_tokens=16, stop=["10"]).text
    stopped_steps = _decode_steps(tiny_llm) - before
    # The text ends exactly where the stop string began, without it...
    assert stopped == free[: free.index("10")]
    # ...and generation itself ended there, before max_tokens: fewer tokens, fewer decode steps.
    assert _n_tokens(tiny_llm, stopped) < 16
    assert stopped_steps < free_steps


def test_max_tokens_caps_the_answer(tiny_llm):
    short = tiny_llm.complete("Write a long story about a robot.", max_tokens=5).text
    assert 1 <= _n_tokens(tiny_llm, short) <= 6


def test_prompt_longer_than_the_context_is_a_clear_error(tiny_llm):
    from tutor.errors import TutorError

    with pytest.raises(TutorError, match="context"):
        tiny_llm.complete("word " * 3000, formatted=True, max_tokens=4)
    assert not tiny_llm.busy


def test_two_threads_share_the_model_without_interleaving(tiny_llm):
    # Continuations so strong that any mixing of the two requests would show in the text.
    prompts = {"1, 2, 3, 4, 5, 6,": " 7, 8", "a, b, c, d, e, f,": " g, h"}
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def worker(p: str) -> None:
        try:
            results[p] = "".join(r.delta for r in tiny_llm.stream_complete(p, formatted=True, max_tokens=8))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(p,)) for p in prompts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    for prompt, start in prompts.items():
        assert results[prompt].startswith(start), results  # each request got its own, unmixed continuation


def test_follow_up_turn_reuses_the_kv_cache_of_the_shared_prefix(tiny_llm):
    import llama_cpp

    system = ChatMessage(role=MessageRole.SYSTEM, content="You are a tutor. " + "Answer briefly and precisely. " * 40)
    turn1 = [system, ChatMessage(role=MessageRole.USER, content="What is a neuron?")]
    reply = tiny_llm.chat(turn1, max_tokens=8)
    turn2 = [*turn1, reply.message, ChatMessage(role=MessageRole.USER, content="And a layer?")]
    prompt2 = tiny_llm.render([{"role": m.role.value, "content": m.content} for m in turn2])
    ctx = tiny_llm.llama._ctx.ctx

    before = llama_cpp.llama_perf_context(ctx).n_p_eval
    tiny_llm.chat(turn2, max_tokens=4)
    evaluated = llama_cpp.llama_perf_context(ctx).n_p_eval - before
    total = len(tiny_llm.tokenize(prompt2))
    assert total > 200
    assert evaluated < 0.25 * total  # only the new suffix was evaluated, not the whole conversation


def test_tools_are_rendered_into_the_prompt(tiny_llm):
    from tutor.llm.backends.base import tool_specs

    prompt = tiny_llm.render([{"role": "user", "content": "Train a CNN."}], tool_specs(TOOLS))
    assert "run_experiment" in prompt and "<tool_call>" in prompt and "<tools>" in prompt


def test_tool_round_trip_with_the_tiny_model_never_crashes(tiny_llm):
    reply = tiny_llm.chat_with_tools(TOOLS, user_msg="Please run a CNN experiment.", max_tokens=TINY_MAX_TOKENS)
    calls = tiny_llm.get_tool_calls_from_response(reply, error_on_no_tool_call=False)
    # The 135M model may or may not call the tool; either way the pipeline gives a well-formed answer.
    assert isinstance(reply.message.additional_kwargs["tool_calls"], list)
    assert isinstance(reply.message.additional_kwargs["tool_problems"], list)
    for call in calls:
        assert call.tool_name == "run_experiment"
    if not calls:
        assert reply.message.content is not None
    # Streaming with tools ends with one response that carries the calls.
    last = list(tiny_llm.stream_chat_with_tools(TOOLS, user_msg="Run an MLP experiment.", max_tokens=12))[-1]
    assert "tool_calls" in last.message.additional_kwargs


def test_hand_written_tool_call_reply_goes_through_the_parser(tiny_llm):
    raw = 'Sure, let me run that.\n<tool_call>\n{"name": "run_experiment", "arguments": {"kind": "cnn"}}\n</tool_call>'
    reply = tiny_llm.parse_reply(raw, TOOLS)
    (call,) = reply.message.additional_kwargs["tool_calls"]
    assert (call.name, call.arguments) == ("run_experiment", {"kind": "cnn"})
    assert reply.message.content == "Sure, let me run that."
    blocks = [b for b in reply.message.blocks if isinstance(b, ToolCallBlock)]
    assert blocks[0].tool_name == "run_experiment" and blocks[0].tool_kwargs == {"kind": "cnn"}
    (sel,) = tiny_llm.get_tool_calls_from_response(reply)
    assert sel.tool_kwargs == {"kind": "cnn"} and sel.tool_id == call.id
    # The call and its result render back into the next prompt (history round trip).
    from tutor.llm.backends.base import to_dict_messages

    result = ChatMessage(role=MessageRole.TOOL, content="val_acc 0.91", additional_kwargs={"tool_call_id": call.id})
    history = to_dict_messages([ChatMessage(role=MessageRole.USER, content="run a cnn"), reply.message, result],
                               arguments_as_json=False)
    prompt = tiny_llm.render(history)
    assert '"kind": "cnn"' in prompt and "val_acc 0.91" in prompt and "<tool_response>" in prompt


def test_unknown_tool_and_garbage_are_problems_not_crashes(tiny_llm):
    reply = tiny_llm.parse_reply('<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call> <tool_call>{oops', TOOLS)
    assert reply.message.additional_kwargs["tool_calls"] == []
    assert reply.message.additional_kwargs["tool_problems"]
    assert tiny_llm.get_tool_calls_from_response(reply, error_on_no_tool_call=False) == []


def test_async_forms(tiny_llm):
    import asyncio

    async def go():
        tiny_llm.reset_cache()
        full = await tiny_llm.achat(QUESTION, max_tokens=6)
        tiny_llm.reset_cache()
        pieces = [r.delta async for r in await tiny_llm.astream_chat(QUESTION, max_tokens=6)]
        return full, pieces

    full, pieces = asyncio.run(go())
    assert "".join(pieces) == full.message.content


@pytest.mark.slow
def test_default_model_makes_a_real_tool_call(qwen_gguf):
    from tutor.llm.backends.llamacpp import LlamaCppLLM

    llm = LlamaCppLLM(qwen_gguf, n_threads=1, context_window=2048, max_new_tokens=64, temperature=0.0, model_name="qwen")
    assert llm.template_renders_tools  # Qwen's own template lays out the tools
    reply = llm.chat_with_tools(
        TOOLS,
        user_msg="Please train a small CNN for me and show me its learning curves.",
        chat_history=[ChatMessage(role=MessageRole.SYSTEM, content="You are a deep-learning tutor. Use tools when asked to run something.")],
    )
    llm.close()
    (call,) = llm.get_tool_calls_from_response(reply)
    assert call.tool_name == "run_experiment"
    assert str(call.tool_kwargs.get("kind", "")).lower() == "cnn"


def test_continuation_scores_rank_the_model_s_own_greedy_reply_first(tiny_llm):
    tiny_llm.reset_cache()
    greedy = tiny_llm.chat(QUESTION, max_tokens=4).message.content
    scored = tiny_llm.continuation_logprobs(QUESTION, [greedy, "Quarterly tax returns"])
    assert scored[0].text == greedy and scored[0].n_tokens == _n_tokens(tiny_llm, greedy)
    assert all(c.logprob < 0 for c in scored) and scored[0].mean > scored[1].mean
    # Scoring moved the KV cache around; the next generation must be the same greedy reply.
    tiny_llm.reset_cache()
    assert tiny_llm.chat(QUESTION, max_tokens=4).message.content == greedy
    assert not tiny_llm.busy


def test_an_empty_continuation_is_a_one_line_error(tiny_llm):
    from tutor.errors import TutorError

    with pytest.raises(TutorError, match="empty continuation"):
        tiny_llm.continuation_logprobs(QUESTION, [""])
