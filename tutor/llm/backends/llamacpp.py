"""The CPU default: llama-cpp-python running the preset's GGUF as it is.

Prompts go through the chat template embedded in the GGUF (Jinja, rendered by llama-cpp-python's
own ``Jinja2ChatFormatter``), so Qwen's template lays out tools and tool results itself. The
rendered prompt is tokenized here and handed to ``create_completion`` as tokens: llama-cpp-python
keeps the KV cache of the previous request and only evaluates the part of a new prompt after the
longest shared token prefix. A follow-up turn, or any request that starts with the same system
prompt, therefore skips re-reading everything it shares with the request before it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr

from tutor.errors import TutorError
from tutor.llm.backends.base import Continuation, GenOptions, InProcessLLM, Piece
from tutor.llm.backends.tool_prompt import inline_tools

# Used only when a GGUF carries no chat template at all (old conversions): plain ChatML.
CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def default_threads() -> int:
    """All cores this process may use (llama-cpp-python's own default is half of them)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class LlamaCppLLM(InProcessLLM):
    """llama-cpp-python on a GGUF file; one request at a time, prefix KV cache reused across requests."""

    model_path: str = Field(description="Path of the GGUF file.")
    n_threads: int = Field(ge=1, description="CPU threads for decoding and prompt processing.")
    n_batch: int = Field(512, ge=8, description="Prompt tokens evaluated per llama.cpp batch.")
    lora_path: str | None = Field(None, description="GGUF LoRA adapter applied on top (tutor finetune export).")

    _llama: Any = PrivateAttr(None)
    _formatter: Any = PrivateAttr(None)
    _template_tools: bool = PrivateAttr(False)
    _bos: str = PrivateAttr("")

    def __init__(self, model_path: str | Path, *, n_threads: int | None = None, **kwargs: Any) -> None:
        super().__init__(model_path=str(model_path), n_threads=n_threads or default_threads(), **kwargs)
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        if not Path(self.model_path).is_file():
            raise TutorError(f"model file {self.model_path} does not exist.")
        if self.lora_path and not Path(self.lora_path).is_file():
            raise TutorError(f"LoRA adapter {self.lora_path} does not exist; write it with `tutor finetune export`.")
        try:
            self._llama = Llama(
                model_path=self.model_path,
                lora_path=self.lora_path,
                n_ctx=self.context_window,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                n_batch=self.n_batch,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            what = f"{self.model_path} with the adapter {self.lora_path}" if self.lora_path else self.model_path
            raise TutorError(f"llama.cpp could not load {what} ({exc}); the file may be damaged.") from None
        llama = self._llama
        eos_id, bos_id = llama.token_eos(), llama.token_bos()
        eos = llama.detokenize([eos_id], special=True).decode("utf-8", "replace") if eos_id >= 0 else ""
        self._bos = llama.detokenize([bos_id], special=True).decode("utf-8", "replace") if bos_id >= 0 else ""
        template = llama.metadata.get("tokenizer.chat_template") or CHATML_TEMPLATE
        self._template_tools = "tools" in template
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=self._bos)

    @classmethod
    def class_name(cls) -> str:
        return "tutor_llamacpp"

    @property
    def llama(self) -> Any:
        """The underlying ``llama_cpp.Llama`` (for benchmarks; take ``serial`` before touching it)."""
        return self._llama

    @property
    def template_renders_tools(self) -> bool:
        """Whether the GGUF's own template has a tool block (else the tutor's fallback prompt is used)."""
        return self._template_tools

    def close(self) -> None:
        """Free the model now (instead of at garbage collection / interpreter exit)."""
        with self._serial.turn():
            if self._llama is not None:
                self._llama.close()
                self._llama = None

    def reset_cache(self) -> None:
        """Forget the KV cache, so the next request is evaluated from scratch (cold).

        Greedy output is reproducible for a given cache state; a reused prefix evaluates the new
        tokens in a different batch shape, which can flip a near-tie between two tokens.
        """
        with self._serial.turn():
            self._llama.reset()

    def render(self, messages: list[dict], tools: list[dict] | None = None) -> str:
        """The exact prompt text the model sees for these chat messages (and tools)."""
        if not self._template_tools:
            messages, tools = inline_tools(messages, tools), None
        return self._formatter(messages=messages, tools=tools).prompt

    def tokenize(self, text: str) -> list[int]:
        # A template that writes the BOS token itself must not get a second one.
        add_bos = not (self._bos and text.startswith(self._bos))
        return self._llama.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def continuation_logprobs(self, messages: Sequence[Any], continuations: Sequence[str]) -> list[Continuation]:
        """Score each continuation after the rendered chat prompt (its reply's first tokens).

        The prompt is evaluated once; each continuation is then fed one token at a time from
        that point, reading the next-token logits after each. One token at a time because the
        context keeps only the last position's logits (``logits_all`` would hold context x vocab
        floats, ~2.5 GB for Qwen at 4k); the choices are short, so this costs little.
        """
        import numpy as np

        prompt = self.tokenize(self.reply_prompt(messages))
        out: list[Continuation] = []
        with self._serial.turn():
            llama = self._llama
            llama.reset()
            llama.eval(prompt)
            start = llama.n_tokens
            first = self._last_logits()
            for text in continuations:
                tokens = llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)
                if not tokens:
                    raise TutorError("cannot score an empty continuation.")
                if start + len(tokens) > self.context_window:
                    raise TutorError(f"prompt plus continuation exceed the context of {self.context_window} tokens.")
                llama.n_tokens = start  # eval() drops the KV cache past n_tokens: back to the prompt's end
                logits, total = first, 0.0
                for i, tok in enumerate(tokens):
                    total += float(logits[tok] - np.logaddexp.reduce(logits))
                    if i + 1 < len(tokens):
                        llama.eval([tok])
                        logits = self._last_logits()
                out.append(Continuation(text=text, logprob=total, n_tokens=len(tokens)))
        return out

    def _last_logits(self) -> Any:
        import numpy as np

        n_vocab = self._llama.n_vocab()
        return np.ctypeslib.as_array(self._llama._ctx.get_logits(), shape=(n_vocab,)).astype(np.float64)

    def _generate(
        self, *, messages: list[dict] | None, prompt: str | None, tools: list[dict] | None, options: GenOptions
    ) -> Iterator[Piece]:
        text = self.render(messages, tools) if messages is not None else (prompt or "")
        tokens = self.tokenize(text)
        room = self.context_window - len(tokens)
        if room < 1:
            raise TutorError(
                f"the prompt is {len(tokens)} tokens, more than the model's context of {self.context_window}; "
                "shorten it or raise context_window."
            )
        with self._serial.turn():
            stream = self._llama.create_completion(
                tokens,
                max_tokens=min(options.max_tokens, room),
                temperature=options.temperature,
                stop=options.stop or None,
                repeat_penalty=1.0,
                stream=True,
            )
            try:
                for chunk in stream:
                    choice = chunk["choices"][0]
                    if choice["text"] or choice.get("finish_reason"):
                        yield Piece(text=choice["text"], finish_reason=choice.get("finish_reason"))
            finally:
                stream.close()  # stops decoding now; the KV of what was evaluated stays for the next prefix match
