"""What every backend shares: the llama-index LLM interface, message conversion, tool calls.

Each backend is a llama-index ``FunctionCallingLLM``: RAG query engines, chat engines and agents
take it as is. A backend only implements ``_generate`` (stream text pieces for a list of chat
messages, or for a raw prompt); this class turns those pieces into llama-index responses,
applies tool-call parsing, and offers the sync, streaming and async forms.

Tool calls come back the same way from every backend: ``response.message.additional_kwargs``
holds ``"tool_calls"`` (a list of ``tutor.llm.toolcalls.ToolCall``) and ``"tool_problems"``
(plain lines about call attempts that could not be used), the message also carries one
llama-index ``ToolCallBlock`` per call, and ``get_tool_calls_from_response`` returns llama-index
``ToolSelection`` objects. ``message.content`` is the prose outside the calls.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from pydantic import BaseModel, Field, PrivateAttr

from tutor.errors import TutorError

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

    from tutor.llm.toolcalls import ToolCall

TOOL_OPEN = "<tool_call>"

# How long a request waits for the model while other users' requests run before giving up.
_QUEUE_TIMEOUT_S = 900.0


class Piece(BaseModel):
    """One step of a backend's generation: new text, and (native-tool backends only) parsed calls."""

    text: str = Field("", description="New text since the previous piece.")
    tool_calls: list[Any] | None = Field(None, description="Tool calls the server parsed itself (OpenAI API).")
    finish_reason: str | None = Field(None, description="Why generation ended, on the last piece.")


class Continuation(BaseModel):
    """The log-probability of one continuation after a prompt (``continuation_logprobs``)."""

    text: str = Field(description="The continuation scored.")
    logprob: float = Field(description="Sum of its tokens' natural-log probabilities.")
    n_tokens: int = Field(ge=1, description="Tokens it was split into (mean = logprob / n_tokens).")

    @property
    def mean(self) -> float:
        return self.logprob / self.n_tokens


class GenOptions(BaseModel):
    """Per-call decoding options; unset fields fall back to the backend's settings."""

    max_tokens: int = Field(ge=1, description="Most new tokens to generate.")
    temperature: float = Field(ge=0.0, description="0 = greedy.")
    stop: list[str] = Field(default_factory=list, description="Generation ends before any of these strings.")
    tool_required: bool = Field(False, description="Ask for a tool call (servers with native tools honour it).")


def tool_specs(tools: Sequence[Any] | None) -> list[dict] | None:
    """OpenAI-style tool dicts from llama-index tools, plain dicts, or bare function specs."""
    if not tools:
        return None
    specs = []
    for tool in tools:
        if hasattr(tool, "metadata") and hasattr(tool.metadata, "to_openai_tool"):
            specs.append(tool.metadata.to_openai_tool(skip_length_check=True))
        elif isinstance(tool, dict) and "function" in tool:
            specs.append(tool)
        elif isinstance(tool, dict) and "name" in tool:
            specs.append({"type": "function", "function": tool})
        else:
            raise TutorError(f"unsupported tool description: {type(tool).__name__}")
    return specs


def tool_names(specs: list[dict] | None) -> set[str]:
    return {s["function"]["name"] for s in specs or []}


def _call_as_dict(call: Any) -> dict | None:
    """Normalise a tool call from any source (our ToolCall, llama-index block, OpenAI object/dict)."""
    if isinstance(call, ToolCallBlock):
        args = call.tool_kwargs
        return {"id": call.tool_call_id or "", "name": call.tool_name, "arguments": args}
    if hasattr(call, "model_dump"):
        call = call.model_dump()
    if not isinstance(call, dict):
        return None
    fn = call.get("function")
    if isinstance(fn, dict):
        return {"id": call.get("id") or "", "name": fn.get("name", ""), "arguments": fn.get("arguments", {})}
    if "name" in call:
        return {"id": call.get("id") or "", "name": call["name"], "arguments": call.get("arguments", {})}
    return None


def _arguments_dict(arguments: Any) -> dict:
    if isinstance(arguments, dict):
        return arguments
    if isinstance(arguments, str):
        try:
            value = json.loads(arguments or "{}")
            return value if isinstance(value, dict) else {}
        except ValueError:
            return {}
    return {}


def to_dict_messages(messages: Sequence[ChatMessage], *, arguments_as_json: bool) -> list[dict]:
    """llama-index messages → the dicts chat templates and the OpenAI API take.

    ``arguments_as_json``: the OpenAI API wants tool-call arguments as a JSON string; HF/GGUF
    chat templates (Qwen's) want a mapping they render with ``tojson``.
    """
    role_map = {
        MessageRole.DEVELOPER: "system",
        MessageRole.FUNCTION: "tool",
        MessageRole.CHATBOT: "assistant",
        MessageRole.MODEL: "assistant",
    }
    out: list[dict] = []
    for msg in messages:
        role = role_map.get(msg.role, msg.role.value)
        item: dict[str, Any] = {"role": role, "content": msg.content or ""}
        calls = [b for b in msg.blocks if isinstance(b, ToolCallBlock)] or list(msg.additional_kwargs.get("tool_calls") or [])
        if role == "assistant" and calls:
            rendered = []
            for raw in calls:
                call = _call_as_dict(raw)
                if call is None:
                    continue
                args = _arguments_dict(call["arguments"])
                rendered.append(
                    {
                        "id": call["id"] or f"call_{len(rendered)}",
                        "type": "function",
                        "function": {"name": call["name"], "arguments": json.dumps(args) if arguments_as_json else args},
                    }
                )
            if rendered:
                item["tool_calls"] = rendered
        if role == "tool":
            if msg.additional_kwargs.get("tool_call_id"):
                item["tool_call_id"] = msg.additional_kwargs["tool_call_id"]
            if msg.additional_kwargs.get("name"):
                item["name"] = msg.additional_kwargs["name"]
        out.append(item)
    return out


class _ToolTagHoldback:
    """Streams prose but holds back text from the first ``<tool_call>`` on.

    A user watching the stream should see the answer, not raw call JSON; the calls arrive parsed on
    the final response. A tail that might be the start of the tag ("<tool_") waits for the next piece.
    """

    def __init__(self) -> None:
        self.emitted = 0
        self.hidden = False

    def visible_delta(self, text: str) -> str:
        if self.hidden:
            return ""
        cut = text.find(TOOL_OPEN)
        if cut >= 0:
            self.hidden = True
            end = cut
        else:
            end = len(text)
            for k in range(min(len(TOOL_OPEN) - 1, len(text)), 0, -1):
                if TOOL_OPEN.startswith(text[-k:]):
                    end = len(text) - k
                    break
        delta = text[self.emitted : max(end, self.emitted)]
        self.emitted = max(end, self.emitted)
        return delta


class TutorLLM(FunctionCallingLLM):
    """Base of every tutor backend (abstract: subclasses implement ``_generate``)."""

    model_name: str = Field(description="Model id shown in answers and passed to servers.")
    context_window: int = Field(4096, ge=512, description="Tokens of context (prompt + answer).")
    max_new_tokens: int = Field(384, ge=1, description="Default cap on generated tokens.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Default sampling temperature; 0 = greedy.")
    stop: list[str] = Field(default_factory=list, description="Default extra stop sequences.")

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_new_tokens,
            is_chat_model=True,
            is_function_calling_model=True,
            model_name=self.model_name,
        )

    # --- what a backend implements -------------------------------------------------------

    def _generate(
        self, *, messages: list[dict] | None, prompt: str | None, tools: list[dict] | None, options: GenOptions
    ) -> Iterator[Piece]:
        """Stream pieces for chat ``messages`` (through the model's chat template) or a raw ``prompt``.

        Closing the iterator must stop decoding and free the model for the next request.
        """
        raise NotImplementedError

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` for this model (callers fit passages into a budget with it)."""
        raise NotImplementedError

    def continuation_logprobs(self, messages: Sequence[ChatMessage], continuations: Sequence[str]) -> list[Continuation]:
        """How likely the model finds each of ``continuations`` as the start of its reply to ``messages``.

        Multiple-choice evals score choices this way instead of parsing a generated letter: a
        0.5B model asked for "one letter" often writes something else, and the comparison of
        likelihoods is the model's preference even when its greedy text is unusable.
        """
        raise TutorError(f"{type(self).__name__} cannot score continuations; likelihood scoring needs an "
                         "in-process model (llm_backend llamacpp or transformers).")

    # --- shared plumbing --------------------------------------------------------------------

    def _options(self, kwargs: dict) -> GenOptions:
        stop = kwargs.pop("stop", None)
        if isinstance(stop, str):
            stop = [stop]
        max_tokens = kwargs.pop("max_tokens", None) or kwargs.pop("max_new_tokens", None) or self.max_new_tokens
        temperature = kwargs.pop("temperature", None)
        return GenOptions(
            max_tokens=max_tokens,
            temperature=self.temperature if temperature is None else temperature,
            stop=[*self.stop, *(stop or [])],
        )

    def _chat_messages(self, messages: Sequence[ChatMessage]) -> list[ChatMessage]:
        if self.system_prompt and not any(m.role == MessageRole.SYSTEM for m in messages):
            return [ChatMessage(role=MessageRole.SYSTEM, content=self.system_prompt), *messages]
        return list(messages)

    def _arguments_as_json(self) -> bool:
        return False

    def _stream(self, messages: Sequence[ChatMessage], kwargs: dict) -> Iterator[ChatResponse]:
        kwargs = dict(kwargs)
        specs = tool_specs(kwargs.pop("tools", None))
        tool_required = bool(kwargs.pop("tool_required", False)) and bool(specs)
        kwargs.pop("tool_choice", None)
        options = self._options(kwargs)
        options.tool_required = tool_required
        dicts = to_dict_messages(self._chat_messages(messages), arguments_as_json=self._arguments_as_json())
        pieces = self._generate(messages=dicts, prompt=None, tools=specs, options=options)
        text = ""
        native_calls: list[Any] | None = None
        finish = None
        holdback = _ToolTagHoldback() if specs else None
        try:
            for piece in pieces:
                text += piece.text
                if piece.tool_calls:
                    native_calls = piece.tool_calls
                finish = piece.finish_reason or finish
                delta = holdback.visible_delta(text) if holdback else piece.text
                if delta or not specs:
                    yield ChatResponse(
                        message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=delta
                    )
        finally:
            pieces.close()  # type: ignore[attr-defined]  # stops decoding when the consumer leaves early
        if specs:
            yield self._final_with_tools(text, specs, native_calls, finish)

    def parse_reply(self, text: str, tools: Sequence[Any]) -> ChatResponse:
        """The response ``chat(..., tools=tools)`` returns when the model's raw reply is ``text``.

        Lets a caller re-read a stored reply, and tests feed hand-written replies through the very
        path real generations take.
        """
        return self._final_with_tools(text, tool_specs(tools) or [], None, None)

    def _final_with_tools(self, text: str, specs: list[dict], native_calls: list[Any] | None, finish: str | None):
        from tutor.llm.toolcalls import ToolCall, parse_tool_calls

        names = tool_names(specs)
        if native_calls:
            calls = []
            problems = []
            for raw in native_calls:
                call = _call_as_dict(raw) or {}
                args = call.get("arguments")
                parsed = _arguments_dict(args)
                if call.get("name") not in names:
                    problems.append(f"unknown tool {call.get('name')!r}")
                    continue
                if isinstance(args, str) and args.strip() and not parsed:
                    problems.append(f"arguments of {call['name']} are not a JSON object")
                    continue
                calls.append(ToolCall(name=call["name"], arguments=parsed, id=call.get("id") or f"call_{len(calls)}"))
            content = text.strip()
        else:
            parse = parse_tool_calls(text, names)
            calls, problems, content = parse.calls, parse.problems, parse.content
        blocks: list[Any] = [TextBlock(text=content)] if content else []
        blocks += [ToolCallBlock(tool_call_id=c.id, tool_name=c.name, tool_kwargs=c.arguments) for c in calls]
        message = ChatMessage(
            role=MessageRole.ASSISTANT,
            blocks=blocks or [TextBlock(text="")],
            additional_kwargs={"tool_calls": calls, "tool_problems": problems, "raw_text": text},
        )
        return ChatResponse(message=message, delta="", additional_kwargs={"finish_reason": finish})

    # --- llama-index LLM interface --------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        last = None
        for last in self._stream(messages, kwargs):
            pass
        if last is None:  # the model produced nothing at all (e.g. it ended its turn at once)
            return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=""))
        return ChatResponse(message=last.message, additional_kwargs=last.additional_kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream(messages, kwargs)

    def _stream_completion(self, prompt: str, formatted: bool, kwargs: dict) -> Iterator[CompletionResponse]:
        kwargs = dict(kwargs)
        options = self._options(kwargs)
        if formatted:
            pieces = self._generate(messages=None, prompt=prompt, tools=None, options=options)
        else:
            msgs = self._chat_messages([ChatMessage(role=MessageRole.USER, content=prompt)])
            dicts = to_dict_messages(msgs, arguments_as_json=self._arguments_as_json())
            pieces = self._generate(messages=dicts, prompt=None, tools=None, options=options)
        text = ""
        try:
            for piece in pieces:
                text += piece.text
                yield CompletionResponse(text=text, delta=piece.text)
        finally:
            pieces.close()  # type: ignore[attr-defined]

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """``formatted=True``: ``prompt`` is already in the model's template; else it is one user turn."""
        text = "".join(r.delta or "" for r in self._stream_completion(prompt, formatted, kwargs))
        return CompletionResponse(text=text)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        return self._stream_completion(prompt, formatted, kwargs)

    # Async forms run the blocking work in a worker thread so a web server's event loop keeps serving.
    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await asyncio.to_thread(self.chat, messages, **kwargs)

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return await asyncio.to_thread(self.complete, prompt, formatted, **kwargs)

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        return _async_iter(self._stream(messages, kwargs))

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        return _async_iter(self._stream_completion(prompt, formatted, kwargs))

    # --- function calling ----------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        if user_msg is not None:
            messages.append(user_msg)
        return {"messages": messages, "tools": list(tools), "tool_required": tool_required, **kwargs}

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        calls = response.message.additional_kwargs.get("tool_calls") or []
        if not calls and error_on_no_tool_call:
            raise ValueError(f"expected at least one tool call, got: {response.message.content!r}")
        selections = []
        for raw in calls:
            call = _call_as_dict(raw)
            if call:
                selections.append(
                    ToolSelection(tool_id=call["id"], tool_name=call["name"], tool_kwargs=_arguments_dict(call["arguments"]))
                )
        return selections


async def _async_iter(gen: Iterator[Any]):
    """Drive a blocking generator from a worker thread, one item at a time."""
    sentinel = object()
    try:
        while True:
            item = await asyncio.to_thread(next, gen, sentinel)
            if item is sentinel:
                return
            yield item
    finally:
        gen.close()  # type: ignore[attr-defined]


class SerialModel:
    """One in-process model, one request at a time.

    llama.cpp contexts and HF ``generate`` are not safe to interleave: concurrent users queue on
    this lock (FIFO in practice) instead. A stream holds it from its first token until it ends or is
    closed, so a consumer that drops a stream early frees the model for the next one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.busy_timeout_s = _QUEUE_TIMEOUT_S

    @contextmanager
    def turn(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=self.busy_timeout_s):
            raise TutorError(
                f"the model stayed busy with other requests for {self.busy_timeout_s:.0f} s; try again later."
            )
        try:
            yield
        finally:
            self._lock.release()

    @property
    def busy(self) -> bool:
        return self._lock.locked()


class InProcessLLM(TutorLLM):
    """Base of backends whose model lives in this process (llama.cpp, transformers)."""

    _serial: SerialModel = PrivateAttr(default_factory=SerialModel)

    def reply_prompt(self, messages: Sequence[ChatMessage]) -> str:
        """The exact text the model reads before its reply to ``messages`` (the backend's ``render``)."""
        return self.render(to_dict_messages(self._chat_messages(messages), arguments_as_json=self._arguments_as_json()))

    @property
    def busy(self) -> bool:
        """True while a request holds the model (tests use it to check early close frees it)."""
        return self._serial.busy
