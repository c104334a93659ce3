"""Any OpenAI-compatible server: vLLM (local or remote), llama.cpp's server, Ollama.

Written on the ``openai`` client rather than llama-index-llms-openai-like so that tool calls,
stop sequences and early close behave exactly as on the in-process backends (one response shape for
the agent) and no extra package is needed. Tool calls use the server's native ``tools=`` support;
when a server returns the raw ``<tool_call>`` text instead (llama.cpp without a tool parser), the
shared parser reads it from the content.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from pydantic import Field, PrivateAttr

from tutor.errors import TutorError
from tutor.llm.backends.base import GenOptions, Piece, TutorLLM

# The OpenAI API accepts at most four stop sequences.
_MAX_STOPS = 4


class OpenAICompatLLM(TutorLLM):
    """Talks to ``base_url`` (ending in ``/v1``) with the OpenAI chat/completions API, streaming."""

    base_url: str = Field(description="Server URL including /v1, e.g. http://127.0.0.1:8000/v1.")
    api_key: str = Field("not-needed", description="Bearer token; local servers ignore it.")
    timeout_s: float = Field(600.0, gt=0, description="Seconds to wait for a response before giving up.")
    preferred_model: str | None = Field(None, description="Served model id to use if the server has it.")

    _client: Any = PrivateAttr(None)
    _resolved_model: str | None = PrivateAttr(None)

    def __init__(self, base_url: str, *, model_name: str | None = None, **kwargs: Any) -> None:
        # model_name None = ask the server which models it serves and take preferred_model or the first.
        super().__init__(base_url=base_url.rstrip("/"), model_name=model_name or "auto", **kwargs)
        import openai

        self._client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key, timeout=self.timeout_s, max_retries=1)
        self._resolved_model = model_name

    @classmethod
    def class_name(cls) -> str:
        return "tutor_openai_compat"

    def _arguments_as_json(self) -> bool:
        return True

    def served_models(self) -> list[str]:
        with self._errors():
            return [m.id for m in self._client.models.list()]

    def _model(self) -> str:
        if self._resolved_model is None:
            served = self.served_models()
            if not served:
                raise TutorError(f"the model server at {self.base_url} serves no models.")
            self._resolved_model = self.preferred_model if self.preferred_model in served else served[0]
            self.model_name = self._resolved_model
        return self._resolved_model

    def count_tokens(self, text: str) -> int:
        # No portable tokenize endpoint exists across servers; a conservative estimate (3 chars per
        # token is below the real average for English with BPE vocabularies) keeps budgets safe.
        return math.ceil(len(text) / 3)

    class _ErrorContext:
        def __init__(self, url: str) -> None:
            self.url = url

        def __enter__(self) -> None:
            return None

        def __exit__(self, exc_type, exc, tb) -> bool:
            import openai

            if exc is None:
                return False
            if isinstance(exc, openai.APITimeoutError):
                raise TutorError(f"the model server at {self.url} did not answer in time.") from None
            if isinstance(exc, openai.APIConnectionError):
                raise TutorError(
                    f"cannot reach the model server at {self.url}; start it (tutor serve) or fix llm_base_url."
                ) from None
            if isinstance(exc, openai.APIStatusError):
                detail = " ".join(str(getattr(exc, "message", exc)).split())[:300]
                raise TutorError(f"the model server at {self.url} answered {exc.status_code}: {detail}") from None
            return False

    def _errors(self) -> _ErrorContext:
        return self._ErrorContext(self.base_url)

    def _generate(
        self, *, messages: list[dict] | None, prompt: str | None, tools: list[dict] | None, options: GenOptions
    ) -> Iterator[Piece]:
        common: dict[str, Any] = dict(
            model=self._model(), max_tokens=options.max_tokens, temperature=options.temperature, stream=True
        )
        if options.stop:
            common["stop"] = options.stop[:_MAX_STOPS]
        with self._errors():
            if messages is not None:
                if tools:
                    common["tools"] = tools
                    if options.tool_required:
                        common["tool_choice"] = "required"
                stream = self._client.chat.completions.create(messages=messages, **common)
            else:
                stream = self._client.completions.create(prompt=prompt or "", **common)
        calls: dict[int, dict] = {}
        finish = None
        try:
            with self._errors():
                for chunk in stream:
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    finish = choice.finish_reason or finish
                    if messages is None:
                        if choice.text:
                            yield Piece(text=choice.text)
                        continue
                    delta = choice.delta
                    if delta is None:
                        continue
                    if delta.content:
                        yield Piece(text=delta.content)
                    # Tool calls stream as fragments keyed by index: name first, arguments in pieces.
                    for frag in delta.tool_calls or []:
                        slot = calls.setdefault(frag.index or 0, {"id": "", "name": "", "arguments": ""})
                        if frag.id:
                            slot["id"] = frag.id
                        if frag.function and frag.function.name:
                            slot["name"] += frag.function.name
                        if frag.function and frag.function.arguments:
                            slot["arguments"] += frag.function.arguments
        finally:
            stream.close()  # closing the HTTP response makes vLLM / llama.cpp abort the request
        native = [calls[i] for i in sorted(calls)] or None
        yield Piece(tool_calls=native, finish_reason=finish)
