"""The one mock of the agent tests, at the model boundary: an LLM that replies from a script.

It is a real llama-index ``CustomLLM`` (the agent and ``ask`` cannot tell it from a backend) and
keeps every prompt it was sent, so tests can check what the model was shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from llama_index.core.base.llms.types import CompletionResponse, CompletionResponseGen, LLMMetadata
from llama_index.core.llms.custom import CustomLLM
from pydantic import PrivateAttr


class ScriptedLLM(CustomLLM):
    """Replies with ``reply`` (a string, or a function of the prompt), streamed word by word,
    ``delay`` seconds apart (a slow model, for the page's Stop tests)."""

    model_name: str = "scripted"
    delay: float = 0.0
    _reply: Any = PrivateAttr()
    _prompts: list = PrivateAttr(default_factory=list)

    def __init__(self, reply: str | Callable[[str], str] = "Dropout randomly drops units during training [1].", **kw):
        super().__init__(**kw)
        self._reply = reply

    @property
    def prompts(self) -> list[str]:
        return self._prompts

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=4096, num_output=256, model_name=self.model_name)

    def _text(self, prompt: str) -> str:
        self._prompts.append(prompt)
        return self._reply(prompt) if callable(self._reply) else self._reply

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self._text(prompt))

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        text = self._text(prompt)

        def gen():
            out = ""
            for i, word in enumerate(text.split(" ")):
                if self.delay:
                    time.sleep(self.delay)
                delta = word if i == 0 else " " + word
                out += delta
                yield CompletionResponse(text=out, delta=delta)

        return gen()
