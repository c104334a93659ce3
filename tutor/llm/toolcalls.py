"""Turn a model's raw reply into tool calls, whatever shape the reply is in.

Small local models (Qwen2.5 0.5B, SmolLM2) are asked to call tools the Hermes/Qwen way::

    Some prose <tool_call>{"name": "search", "arguments": {"query": "dropout"}}</tool_call>

and they get it wrong in every way you can think of: trailing commas, single quotes,
unquoted keys, a reply cut off before ``}`` or ``</tool_call>``, ``arguments`` given as a
JSON *string*, a tool that does not exist, or no tags at all (a bare JSON object or a
```json fence). :func:`parse_tool_calls` never raises on any of it: what it can repair
becomes a :class:`ToolCall`, what it cannot becomes a line in ``problems`` that the agent
shows the model when it asks once more (see ``tutor.agent.prompts.render_tool_retry``).

Repairs go through ``json_repair`` (a maintained library built for LLM output) after the
strict ``json`` parser fails; the hand-written part below is only the tag splitting, which
no library does for this format.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import BaseModel, Field

OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"

# Longer segments are not repaired: json_repair is linear-ish but a runaway generation of
# hundreds of kB is never a real call, and we must answer promptly.
_MAX_SEGMENT_CHARS = 50_000
_MAX_REPAIR_DEPTH = 64

# A tag cut short at the very end of a reply ("...<tool_c", "</tool_ca"): strip it from prose.
_PARTIAL_TAG_AT_END = re.compile(r"</?t(?:o(?:o(?:l(?:_(?:c(?:a(?:l(?:l)?)?)?)?)?)?)?)?$")
_FENCE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?```$", re.DOTALL)


class ToolCall(BaseModel):
    name: str = Field(description="A tool name from the set the caller allowed.")
    arguments: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments for the tool.")
    id: str = Field(description="Stable id for this call inside the reply ('call_<hash>').")


class ToolParse(BaseModel):
    content: str = Field("", description="The reply's prose outside any tool call, stripped.")
    calls: list[ToolCall] = Field(default_factory=list, description="Calls that name a known tool, in order.")
    problems: list[str] = Field(
        default_factory=list, description="One plain line per call attempt that could not be used."
    )


def render_tool_call(name: str, arguments: dict[str, Any]) -> str:
    """The canonical Hermes/Qwen form of one call (what the chat template expects in history)."""
    body = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
    return f"{OPEN_TAG}\n{body}\n{CLOSE_TAG}"


def parse_tool_calls(text: str, tool_names: set[str] | frozenset[str] | list[str]) -> ToolParse:
    """Split ``text`` into prose and tool calls; never raises."""
    try:
        return _parse(text, set(tool_names or ()))
    except Exception as exc:  # pragma: no cover - a last guard; the fuzz tests never reach it
        return ToolParse(content=str(text or "").strip(), problems=[f"could not read the reply ({type(exc).__name__})"])


# --------------------------------------------------------------------------------------
def _parse(text: Any, known: set[str]) -> ToolParse:
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    result = ToolParse()
    prose: list[str] = []

    if OPEN_TAG not in text:
        # No tags: the reply may be nothing but a bare JSON object or a ```json fence.
        stripped = text.strip()
        fenced = _FENCE.match(stripped)
        candidate = fenced.group(1).strip() if fenced else stripped
        if candidate.startswith("{") and _looks_like_call(candidate):
            _collect(candidate, known, result, closed=True, prose=prose)
            result.content = _clean_prose("\n".join(p.strip() for p in prose if p.strip()))
            return result
        result.content = _clean_prose(text)
        return result

    pos = 0
    while True:
        start = text.find(OPEN_TAG, pos)
        if start < 0:
            prose.append(text[pos:])
            break
        prose.append(text[pos:start])
        body_start = start + len(OPEN_TAG)
        fast = _strict_call_at(text, body_start)
        if fast is not None:
            objects, pos = fast
            for obj in objects:
                _add_call(obj, known, result)
            continue
        end = text.find(CLOSE_TAG, body_start)
        next_open = text.find(OPEN_TAG, body_start)
        if end >= 0 and (next_open < 0 or end < next_open):
            _collect(text[body_start:end], known, result, closed=True, prose=prose)
            pos = end + len(CLOSE_TAG)
        else:
            # Missing close tag: the call runs to the next open tag or to the end.
            stop = next_open if next_open >= 0 else len(text)
            _collect(text[body_start:stop], known, result, closed=False, prose=prose)
            pos = stop
    result.content = _clean_prose("\n".join(p.strip() for p in prose if p.strip()))
    return result


def _strict_call_at(text: str, idx: int) -> tuple[list[Any], int] | None:
    """Well-formed JSON right after the open tag, then the close tag (or the end, or the next
    open tag): return the objects and where prose resumes. Decoding the JSON first means a
    tag written *inside* a string value cannot split the call."""
    n = len(text)
    while idx < n and text[idx].isspace():
        idx += 1
    if idx >= n or text[idx] != "{":
        return None
    objects, rest = _decode_objects(text[idx:])
    if not objects:
        return None
    after = n - len(rest)
    stripped = rest.lstrip()
    after += len(rest) - len(stripped)
    if stripped.startswith(CLOSE_TAG):
        return objects, after + len(CLOSE_TAG)
    if not stripped or stripped.startswith(OPEN_TAG):
        return objects, after
    return None


def _looks_like_call(candidate: str) -> bool:
    # A bare JSON reply is a call only if it says so; a model answering with a JSON
    # example ("{"lr": 0.01}") is prose.
    return bool(re.search(r"""["']?name["']?\s*:""", candidate)) and bool(
        re.search(r"""["']?(arguments|parameters)["']?\s*:""", candidate)
    )


def _clean_prose(text: str) -> str:
    text = text.replace(CLOSE_TAG, "")
    text = _PARTIAL_TAG_AT_END.sub("", text.rstrip())
    return text.strip()


def _collect(body: str, known: set[str], result: ToolParse, *, closed: bool, prose: list[str]) -> None:
    """Read every JSON object in one tag body; add calls and problems to ``result``."""
    body = body.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    if not body:
        result.problems.append("an empty <tool_call> tag")
        return
    if len(body) > _MAX_SEGMENT_CHARS:
        result.problems.append(f"a tool call of {len(body)} characters is too long to read")
        return
    brace = body.find("{")
    if brace < 0:
        result.problems.append(f"the tool call is not a JSON object: {_short(body)}")
        return
    if brace > 0 and not closed:
        prose.append(body[:brace])
    objects, rest = _decode_objects(body[brace:])
    if rest.strip():
        if closed:
            if not objects:
                # Strict JSON gave nothing usable: repair the whole body instead.
                objects = [_repair(body[brace:])]
            else:
                objects.append(_repair(rest))
        else:
            # Unclosed tag: a truncated call, or a complete call followed by prose.
            if objects:
                prose.append(rest)
            else:
                objects = [_repair(rest)]
    for obj in objects:
        _add_call(obj, known, result)


def _decode_objects(text: str) -> tuple[list[Any], str]:
    """Strictly decode consecutive JSON values from the start of ``text``; return the unread rest."""
    decoder = json.JSONDecoder()
    objects: list[Any] = []
    idx = 0
    while True:
        while idx < len(text) and text[idx] in " \t\r\n,":
            idx += 1
        if idx >= len(text) or text[idx] != "{":
            break
        try:
            obj, idx = decoder.raw_decode(text, idx)
        except (ValueError, RecursionError):
            break
        objects.append(obj)
    return objects, text[idx:]


def _repair(text: str) -> Any:
    # json_repair slows down sharply on deep unclosed nesting ("{{{{..."), which a real call
    # never has; refuse those rather than stall the reply.
    if _max_depth(text) > _MAX_REPAIR_DEPTH:
        return None
    try:
        import json_repair

        return json_repair.loads(text)
    except (Exception, RecursionError):
        return None


def _max_depth(text: str) -> int:
    depth = best = 0
    for ch in text:
        if ch in "{[":
            depth += 1
            if depth > best:
                best = depth
        elif ch in "}]" and depth:
            depth -= 1
    return best


def _add_call(obj: Any, known: set[str], result: ToolParse) -> None:
    if isinstance(obj, list) and len(obj) == 1:
        obj = obj[0]
    if not isinstance(obj, dict):
        result.problems.append(f"the tool call is not a JSON object with a name: {_short(repr(obj))}")
        return
    # OpenAI-style {"function": {"name": ..., "arguments": "..."}}
    if "name" not in obj and isinstance(obj.get("function"), dict):
        obj = obj["function"]
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        result.problems.append("a tool call without a tool name")
        return
    name = name.strip()
    if name not in known:
        allowed = ", ".join(sorted(known)) or "none"
        result.problems.append(f"unknown tool '{_short(name, 40)}' (available: {allowed})")
        return
    args = obj.get("arguments", obj.get("parameters", {}))
    if args is None:
        args = {}
    if isinstance(args, str):
        # Some models JSON-encode the arguments a second time.
        text = args.strip()
        if not text:
            args = {}
        else:
            try:
                args = json.loads(text)
            except (ValueError, RecursionError):
                args = _repair(text)
    if not isinstance(args, dict):
        result.problems.append(f"the arguments of '{name}' are not a JSON object: {_short(repr(args))}")
        return
    digest = hashlib.sha1(
        f"{len(result.calls)}:{name}:{json.dumps(args, sort_keys=True, default=str)}".encode("utf-8", "replace")
    ).hexdigest()[:12]
    result.calls.append(ToolCall(name=name, arguments=args, id=f"call_{digest}"))


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
