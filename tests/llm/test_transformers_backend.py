"""The transformers backend on the real SmolLM2-135M (dequantised from the shipped GGUF) and a real PEFT adapter."""

from __future__ import annotations

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

pytestmark = pytest.mark.slow

QUESTION = [ChatMessage(role=MessageRole.USER, content="What is the capital of France?")]


@pytest.fixture(scope="module")
def hf_llm(tiny_hf_dir):
    from tutor.llm.backends.transformers_backend import TransformersLLM

    return TransformersLLM(tiny_hf_dir, model_name="smollm2-hf", max_new_tokens=12, temperature=0.0, context_window=2048)


@pytest.fixture(scope="module")
def adapter_dir(tiny_hf_dir, tmp_path_factory):
    """A LoRA adapter made with peft on the same model; random B matrices so it changes the output."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_hf_dir, dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=32, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    peft_model = get_peft_model(base, config)
    out = tmp_path_factory.mktemp("adapter")
    peft_model.save_pretrained(out)
    return out


def test_runs_on_cpu_fp32_and_answers(hf_llm):
    assert hf_llm.device == "cpu"
    assert next(hf_llm.model.parameters()).dtype.is_floating_point
    reply = hf_llm.chat(QUESTION)
    assert "Paris" in reply.message.content


def test_same_prompt_tokens_as_llama_cpp(hf_llm, tiny_llm):
    # Both backends render the model's own template: the model sees identical tokens either way.
    # (Their greedy outputs may still differ: llama.cpp multiplies Q4_1 weights with 8-bit activations.)
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is a CNN?"}]
    hf_prompt, cpp_prompt = hf_llm.render(msgs), tiny_llm.render(msgs)
    assert hf_prompt == cpp_prompt
    assert hf_llm.tokenizer(hf_prompt, add_special_tokens=False)["input_ids"] == tiny_llm.tokenize(cpp_prompt)


def test_streams_incrementally_and_close_frees_the_model(hf_llm):
    chunks = list(hf_llm.stream_chat(QUESTION, max_tokens=10))
    assert len([c for c in chunks if c.delta]) >= 3
    assert "".join(c.delta for c in chunks) == chunks[-1].message.content
    stream = hf_llm.stream_complete("Count to one hundred: 1, 2,", formatted=True, max_tokens=200)
    next(stream)
    assert hf_llm.busy
    stream.close()
    assert not hf_llm.busy


def test_stop_and_max_tokens(hf_llm):
    free = hf_llm.complete("Count: 1, 2, 3, 4, 5, 6, 7,", formatted=True, max_tokens=12).text
    assert "9" in free
    stopped = hf_llm.complete("Count: 1, 2, 3, 4, 5, 6, 7,", formatted=True, max_tokens=12, stop=["9"]).text
    assert "9" not in stopped and free.startswith(stopped)
    short = hf_llm.complete("Tell me a long story.", max_tokens=3).text
    assert 1 <= hf_llm.count_tokens(short) <= 4


def test_tools_render_and_parse(hf_llm):
    import json
    import re

    from llama_index.core.tools import FunctionTool

    from tutor.llm.backends.base import tool_specs

    def run_experiment(kind: str) -> str:
        """Train a small network of the given kind."""
        return kind

    tools = [FunctionTool.from_defaults(fn=run_experiment)]
    specs = tool_specs(tools)
    prompt = hf_llm.render([{"role": "user", "content": "hi"}], specs)
    # The prompt lays out exactly this tool: its name, description and JSON schema, one per line.
    block = re.search(r"<tools>\n(.*?)\n</tools>", prompt, flags=re.S)
    assert block, prompt
    assert [json.loads(line) for line in block.group(1).splitlines()] == specs
    assert specs[0]["function"]["name"] == "run_experiment"
    assert specs[0]["function"]["parameters"]["required"] == ["kind"]
    assert "<tool_call>" in prompt and prompt.rstrip().endswith("hi<|im_end|>\n<|im_start|>assistant")

    # A known reply parses to exactly this call, and no prose or problems.
    raw = '<tool_call>\n{"name": "run_experiment", "arguments": {"kind": "cnn"}}\n</tool_call>'
    parsed = hf_llm.parse_reply(raw, tools)
    (call,) = parsed.message.additional_kwargs["tool_calls"]
    assert (call.name, call.arguments) == ("run_experiment", {"kind": "cnn"})
    assert parsed.message.additional_kwargs["tool_problems"] == [] and not parsed.message.content
    (selected,) = hf_llm.get_tool_calls_from_response(parsed)
    assert (selected.tool_name, selected.tool_kwargs) == ("run_experiment", {"kind": "cnn"})

    # A real generation with tools goes through that same parser: its calls are what parsing
    # its raw text gives.
    reply = hf_llm.chat_with_tools(tools, user_msg="Run a CNN experiment.", max_tokens=12)
    extra = reply.message.additional_kwargs
    again = hf_llm.parse_reply(extra["raw_text"], tools).message.additional_kwargs
    assert [(c.name, c.arguments) for c in extra["tool_calls"]] == [(c.name, c.arguments) for c in again["tool_calls"]]
    assert extra["tool_problems"] == again["tool_problems"]


def test_peft_adapter_loads_and_changes_the_output(hf_llm, tiny_hf_dir, adapter_dir):
    from tutor.llm.backends.transformers_backend import TransformersLLM

    tuned = TransformersLLM(tiny_hf_dir, adapter_path=adapter_dir, model_name="tuned", max_new_tokens=8,
                            temperature=0.0, context_window=2048)
    assert type(tuned.model).__name__.startswith("Peft")
    base_text = hf_llm.complete("The capital of France is", formatted=True, max_tokens=8).text
    tuned_text = tuned.complete("The capital of France is", formatted=True, max_tokens=8).text
    assert tuned_text != base_text


def test_bad_adapter_dir_is_one_line(tiny_hf_dir, tmp_path):
    from tutor.errors import TutorError
    from tutor.llm.backends.transformers_backend import TransformersLLM

    with pytest.raises(TutorError, match="adapter_config.json"):
        TransformersLLM(tiny_hf_dir, adapter_path=tmp_path, model_name="x")


def test_load_llm_transformers_from_a_gguf_path(tutor_home, tiny_hf_dir):
    from tutor.config import Settings
    from tutor.llm.load import load_llm
    from tutor.llm.backends.transformers_backend import TransformersLLM

    llm = load_llm(Settings(llm_backend="transformers", llm_model_path=tiny_hf_dir, llm_preset="smollm2-135m",
                            max_new_tokens=3))
    assert isinstance(llm, TransformersLLM) and llm.complete("Hi").text is not None


def test_continuation_scores_agree_with_llama_cpp(hf_llm, tiny_llm):
    # Same weights (dequantised from the GGUF): the two backends must rank choices the same way.
    options = [" Paris", " Berlin", " a city in Europe"]
    hf = hf_llm.continuation_logprobs(QUESTION, options)
    cpp = tiny_llm.continuation_logprobs(QUESTION, options)
    assert [c.n_tokens for c in hf] == [c.n_tokens for c in cpp]
    assert sorted(range(3), key=lambda i: hf[i].mean) == sorted(range(3), key=lambda i: cpp[i].mean)
    assert all(abs(a.logprob - b.logprob) < 0.5 * a.n_tokens for a, b in zip(hf, cpp))
