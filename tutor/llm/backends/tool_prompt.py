"""Tool prompting for chat templates that have no tool block of their own (e.g. SmolLM2's ChatML).

Models such as Qwen2.5 render tools through their own template; for the rest the tutor describes
the tools in the system turn in the same Hermes/Qwen shape (``<tool_call>{json}</tool_call>``) so
one parser (``tutor.llm.toolcalls``) reads every local model's calls.
"""

from __future__ import annotations

import json

TOOL_SYSTEM_TEMPLATE = """{system}

# Tools
You can call functions to help answer. Their signatures, as JSON, are inside <tools></tools>:
<tools>
{tool_lines}
</tools>
To call one, reply with a JSON object naming the function and its arguments inside tags:
<tool_call>
{{"name": "<function name>", "arguments": {{<arguments as JSON>}}}}
</tool_call>"""

TOOL_RESULT_TEMPLATE = "<tool_response>\n{content}\n</tool_response>"


def _render_call(call: dict) -> str:
    fn = call.get("function", call)
    args = fn.get("arguments", {})
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except ValueError:
            pass
    return "<tool_call>\n" + json.dumps({"name": fn.get("name", ""), "arguments": args}, ensure_ascii=False) + "\n</tool_call>"


def inline_tools(messages: list[dict], tools: list[dict] | None) -> list[dict]:
    """Rewrite OpenAI-style messages so a template without tool support still shows tools, calls and results."""
    out: list[dict] = []
    for msg in messages:
        msg = dict(msg)
        if msg["role"] == "assistant" and msg.get("tool_calls"):
            calls = "\n".join(_render_call(c) for c in msg.pop("tool_calls"))
            msg["content"] = (msg.get("content") or "") + ("\n" if msg.get("content") else "") + calls
        elif msg["role"] == "tool":
            msg = {"role": "user", "content": TOOL_RESULT_TEMPLATE.format(content=msg.get("content", ""))}
        out.append(msg)
    if tools:
        tool_lines = "\n".join(json.dumps(t, ensure_ascii=False) for t in tools)
        if out and out[0]["role"] == "system":
            system = out[0]["content"]
            out = out[1:]
        else:
            system = "You are a helpful assistant."
        out.insert(0, {"role": "system", "content": TOOL_SYSTEM_TEMPLATE.format(system=system, tool_lines=tool_lines)})
    return out
