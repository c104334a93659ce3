"""Routing by the model's own function calling, where the backend has it (vLLM, OpenAI-compatible).

    router = NativeRouter(settings, llm=lambda: tutor.llm)   # settings.router == "native"

A served model that was trained for tools (and a GPU to run it) can read wording no rule or
exemplar anticipated, which is where the embedding router fails on new blind sets (docs/agent.md).
Three things stay as in the embedding router, because a model's call is not trusted blindly:

- the intent rules still decide first (all but "any other question retrieves"): a run id or
  "quiz me" needs no model;
- a call naming no known tool, or no call at all, falls back to the embedding vote (knowledge
  questions must always retrieve, and a model that chats instead of calling must not lose them);
- an argument survives only if the learner's words state it (``grounded``): a model that fills a
  recipe's defaults or guesses a learning rate is caught here, and the recipe default is used.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from tutor.agent import arguments
from tutor.agent.router import Decision, Router, fill_arguments, intent_rules, search_if_no_recipe
from tutor.config import Settings

log = logging.getLogger("tutor.agent")
#: The backends whose servers parse tool calls themselves.
NATIVE_BACKENDS = ("openai", "vllm")


def grounded(tool: str, kwargs: dict[str, Any], message: str) -> dict[str, Any]:
    """The model's arguments that the message states; everything else is dropped, never defaulted."""
    if tool == "search_knowledge":
        return fill_arguments(tool, message)  # the query is the learner's own words; a feed only if named
    if tool == "run_experiment":
        # The tool's schema nests the recipe parameters under "params"; the router's decision is flat.
        flat = {k: v for k, v in kwargs.items() if k != "params"} | dict(kwargs.get("params") or {})
        kind = flat.pop("kind", None)
        if kind is None or arguments.detect_kind(message) != kind:
            return {}
        return {"kind": kind} | {k: v for k, v in flat.items() if arguments.stated(v, message, k)}
    if tool in ("explain_run", "compare_runs"):
        ids = set(arguments.run_ids(message))
        return {k: v for k, v in kwargs.items() if isinstance(v, str) and v.lower() in ids}
    if tool == "quiz":
        return fill_arguments(tool, message)  # topic ids come from the roadmap's aliases, not the model
    return {}


class NativeRouter(Router):
    """Intent rules, then the model's native tool call, then the embedding vote."""

    def __init__(self, settings: Settings | None = None, *, llm: Callable[[], Any], encoder: Any | None = None):
        super().__init__(settings, encoder)
        self._llm = llm

    def _tools(self) -> list:
        from llama_index.core.tools import FunctionTool

        from tutor.agent.tools import TOOLS

        return [FunctionTool.from_defaults(fn=lambda **_: None, name=t.name, fn_schema=t.args,
                                           description=(t.args.__doc__ or t.name).strip()) for t in TOOLS.values()]

    def _native_call(self, message: str) -> tuple[str, dict[str, Any]] | None:
        from tutor.agent.tools import TOOLS

        llm = self._llm()
        try:
            reply = llm.chat_with_tools(self._tools(), user_msg=message, max_tokens=160)
            calls = llm.get_tool_calls_from_response(reply, error_on_no_tool_call=False)
        except Exception as exc:  # noqa: BLE001 - a server hiccup costs the model's opinion, not the turn
            log.warning("native tool call failed, using the embedding router: %s", exc)
            return None
        for call in calls:
            if call.tool_name in TOOLS:
                return call.tool_name, dict(call.tool_kwargs or {})
        return None

    def route(self, message: str) -> Decision:
        if intent_rules(message, questions=False) is not None:
            return super().route(message)
        t0 = time.perf_counter()
        native = self._native_call(message)
        if native is None:
            return super().route(message)
        tool, kwargs = native
        args = fill_arguments(tool, message)
        args.update({k: v for k, v in grounded(tool, kwargs, message).items() if k not in args})
        tool, args = search_if_no_recipe(tool, args, message)
        return Decision(tool=tool, arguments=args, confidence=1.0, rule=None, latency_s=time.perf_counter() - t0)


def make_router(settings: Settings, llm: Callable[[], Any]) -> Router:
    """The router the settings ask for (``router = "native"`` needs a backend with function calling)."""
    from tutor.errors import TutorError

    if settings.router == "native":
        if settings.llm_backend not in NATIVE_BACKENDS:
            raise TutorError(f"router 'native' needs a backend with function calling ({' or '.join(NATIVE_BACKENDS)}); "
                             f"llm_backend is '{settings.llm_backend}': use router = 'embedding'")
        return NativeRouter(settings, llm=llm)
    return Router(settings)
