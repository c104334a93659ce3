"""In-process transformers: CUDA when present, else CPU fp32; the path fine-tuned PEFT adapters load on.

Slow on CPU compared with llama.cpp (~5 tok/s vs ~60 for the 0.5B default on 2 cores), but it is the
exact model the fine-tuning code trains, so an adapter can be tried without converting anything.
Generation runs in a worker thread feeding a ``TextIteratorStreamer``; closing the stream sets a
cancel flag that a stopping criterion checks after every token.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr

from tutor.errors import TutorError
from tutor.llm.backends.base import Continuation, GenOptions, InProcessLLM, Piece
from tutor.llm.backends.tool_prompt import inline_tools
from tutor.llm.presets import hub_offline


def _stop_holdback(text: str, stops: list[str]) -> int:
    """Chars at the end of ``text`` that could still grow into a stop sequence (held back from the stream)."""
    keep = 0
    for stop in stops:
        for k in range(min(len(stop) - 1, len(text)), keep, -1):
            if stop.startswith(text[-k:]):
                keep = k
                break
    return keep


class TransformersLLM(InProcessLLM):
    """A Hugging Face causal LM (optionally with a PEFT adapter) behind the tutor's LLM interface."""

    model_ref: str = Field(description="Local model dir or hub id the weights were loaded from.")
    adapter_path: str | None = Field(None, description="PEFT adapter dir applied on top, if any.")
    device: str = Field("cpu", description="torch device the model runs on.")

    _model: Any = PrivateAttr(None)
    _tokenizer: Any = PrivateAttr(None)
    _template_tools: bool = PrivateAttr(False)

    def __init__(
        self,
        model_ref: str | Path,
        *,
        load_kwargs: dict | None = None,
        adapter_path: str | Path | None = None,
        device: str | None = None,
        **kwargs: Any,
    ) -> None:
        import torch

        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        super().__init__(
            model_ref=str(model_ref), adapter_path=str(adapter_path) if adapter_path else None, device=device, **kwargs
        )
        from transformers import AutoModelForCausalLM, AutoTokenizer

        load_kwargs = dict(load_kwargs or {})
        load_kwargs.setdefault("local_files_only", hub_offline())
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(self.model_ref, **load_kwargs)
            model = AutoModelForCausalLM.from_pretrained(self.model_ref, dtype=dtype, **load_kwargs)
        except OSError as exc:
            raise TutorError(f"transformers could not load {self.model_ref}: {str(exc).splitlines()[0]}") from None
        if self.adapter_path:
            model = _apply_adapter(model, self.adapter_path)
        self._model = model.to(device).eval()
        template = self._tokenizer.chat_template or ""
        self._template_tools = "tools" in template

    @classmethod
    def class_name(cls) -> str:
        return "tutor_transformers"

    @property
    def model(self) -> Any:
        return self._model

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    def render(self, messages: list[dict], tools: list[dict] | None = None) -> str:
        if not self._template_tools:
            messages, tools = inline_tools(messages, tools), None
        if not self._tokenizer.chat_template:
            raise TutorError(f"the tokenizer of {self.model_ref} has no chat template; use a chat/instruct model.")
        return self._tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=True, tokenize=False)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def continuation_logprobs(self, messages: Sequence[Any], continuations: Sequence[str]) -> list[Continuation]:
        """Score each continuation after the rendered chat prompt: one forward pass per choice."""
        import torch

        prompt = self._tokenizer(self.reply_prompt(messages), add_special_tokens=False)["input_ids"]
        out: list[Continuation] = []
        with self._serial.turn(), torch.no_grad():
            for text in continuations:
                tokens = self._tokenizer(text, add_special_tokens=False)["input_ids"]
                if not tokens:
                    raise TutorError("cannot score an empty continuation.")
                ids = torch.tensor([prompt + tokens], device=self.device)
                logprobs = torch.log_softmax(self._model(ids).logits[0, len(prompt) - 1 : -1].float(), dim=-1)
                total = logprobs.gather(1, ids[0, len(prompt):, None]).sum().item()
                out.append(Continuation(text=text, logprob=total, n_tokens=len(tokens)))
        return out

    def _generate(
        self, *, messages: list[dict] | None, prompt: str | None, tools: list[dict] | None, options: GenOptions
    ) -> Iterator[Piece]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        text = self.render(messages, tools) if messages is not None else (prompt or "")
        # The template already wrote any BOS/special tokens; a raw prompt gets the tokenizer's defaults.
        inputs = self._tokenizer(text, return_tensors="pt", add_special_tokens=messages is None).to(self.device)
        n_prompt = inputs["input_ids"].shape[1]
        room = self.context_window - n_prompt
        if room < 1:
            raise TutorError(
                f"the prompt is {n_prompt} tokens, more than the context of {self.context_window}; shorten it."
            )
        cancel = threading.Event()

        class _Cancelled(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs) -> bool:  # noqa: ARG002
                return cancel.is_set()

        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)
        gen_kwargs: dict[str, Any] = dict(
            **inputs,
            max_new_tokens=min(options.max_tokens, room),
            streamer=streamer,
            stopping_criteria=StoppingCriteriaList([_Cancelled()]),
            pad_token_id=self._tokenizer.pad_token_id or self._tokenizer.eos_token_id,
        )
        if options.temperature > 0:
            gen_kwargs.update(do_sample=True, temperature=options.temperature, top_p=0.95)
        else:
            gen_kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    self._model.generate(**gen_kwargs)
            except BaseException as exc:  # surfaced in the consumer below
                failure.append(exc)
                streamer.end()

        with self._serial.turn():
            worker = threading.Thread(target=run, name="tutor-generate", daemon=True)
            worker.start()
            produced, emitted, finish = "", 0, "length"
            try:
                for new in streamer:
                    produced += new
                    hit = min((produced.find(s) for s in options.stop if s in produced), default=-1)
                    if hit >= 0:
                        # Stop strings are handled here rather than by generate(stop_strings=...) so the
                        # text after them never reaches the caller, exactly like llama.cpp's stop.
                        if hit > emitted:
                            yield Piece(text=produced[emitted:hit])
                        emitted, finish = hit, "stop"
                        break
                    safe = len(produced) - _stop_holdback(produced, options.stop)
                    if safe > emitted:
                        yield Piece(text=produced[emitted:safe])
                        emitted = safe
                else:
                    if len(produced) > emitted:
                        yield Piece(text=produced[emitted:])
                    if not failure:
                        n_new = len(self._tokenizer(produced, add_special_tokens=False)["input_ids"])
                        finish = "length" if n_new >= gen_kwargs["max_new_tokens"] else "stop"
                if failure:
                    raise TutorError(f"generation failed: {failure[0]}")
                yield Piece(finish_reason=finish)
            finally:
                cancel.set()
                worker.join()


def _apply_adapter(model: Any, adapter_path: str) -> Any:
    path = Path(adapter_path).expanduser()
    if not (path / "adapter_config.json").is_file():
        raise TutorError(f"adapter_path {path} is not a PEFT adapter directory (no adapter_config.json).")
    try:
        from peft import PeftModel
    except ImportError:
        raise TutorError("loading a LoRA adapter needs peft; pip install peft.") from None
    try:
        return PeftModel.from_pretrained(model, str(path))
    except (ValueError, OSError, RuntimeError, KeyError) as exc:
        raise TutorError(f"the adapter at {path} does not fit this model: {str(exc).splitlines()[0]}") from None
