"""The tools suite: does the agent pick the right tool, with the learner's arguments and no others?

    python -m evals tools                                   # evals/datasets/routing.jsonl
    python -m evals tools --dataset evals/datasets/routing_holdout.jsonl --json out.json

Metrics (docs/agent.md):
- tool_accuracy: share of messages routed to the expected tool (``none`` included);
- argument_exact_match: among correctly routed messages, share whose arguments equal the expected
  ones exactly (``query`` of search_knowledge is the message itself and is not compared);
- invented_argument_rate: share of messages whose arguments hold a key the learner never gave;
- no_call_rate: among messages that need no tool, share routed to none;
- latency p50/p95 of one routing decision (after warm-up).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

DATASET_PATH = Path(__file__).parent / "datasets" / "routing.jsonl"


class RoutingCase(BaseModel):
    id: str
    message: str
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    category: str = ""


def load_dataset(path: str | Path = DATASET_PATH) -> list[RoutingCase]:
    from evals.report import load_jsonl

    return load_jsonl(path, RoutingCase, "routing")


def _comparable(tool: str, args: dict) -> dict:
    return {k: v for k, v in args.items() if not (tool == "search_knowledge" and k == "query")}


def score(route, cases: list[RoutingCase], on_item=None) -> dict[str, Any]:
    """Route every case with ``route(message) -> (tool, arguments)``; metrics and per-item rows."""
    items = []
    for case in cases:
        t0 = time.perf_counter()
        tool, args = route(case.message)
        latency = time.perf_counter() - t0
        got, want = _comparable(tool, args), _comparable(case.tool, case.arguments)
        item = {"id": case.id, "message": case.message, "expected_tool": case.tool, "tool": tool,
                "expected_arguments": want, "arguments": got, "tool_ok": tool == case.tool,
                "args_ok": tool == case.tool and got == want,
                "invented": sorted(k for k in got if k not in want) if tool == case.tool else [],
                "latency_s": latency, "category": case.category}
        items.append(item)
        if on_item:
            on_item(item)
    return {"suite": "tools", "metrics": score_items(items), "items": items}


def score_items(items: list[dict]) -> dict[str, Any]:
    """The suite's metrics over scored rows (see the module doc)."""
    n = len(items)
    right_tool = [i for i in items if i["tool_ok"]]
    no_tool = [i for i in items if i["expected_tool"] == "none"]
    lat = sorted(i["latency_s"] for i in items)
    return {
        "n": n,
        "tool_accuracy": len(right_tool) / n if n else 0.0,
        "argument_exact_match": sum(i["args_ok"] for i in right_tool) / len(right_tool) if right_tool else 0.0,
        "invented_argument_rate": sum(bool(i["invented"]) for i in items) / n if n else 0.0,
        "no_call_rate": sum(i["tool"] == "none" for i in no_tool) / len(no_tool) if no_tool else None,
        "latency_p50_s": statistics.median(lat) if lat else None,
        "latency_p95_s": lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else None,
    }


def embedding_route(settings=None):
    from tutor.agent.router import Router

    router = Router(settings)
    router.warm_up()
    router.route("warm up the encoder")

    def route(message: str):
        d = router.route(message)
        return d.tool, d.arguments

    return route


def bfcl_score(args) -> int:
    """BFCL-format files: the LLM runtime's own tool calls (chat with tools, parsed by
    tutor.llm.toolcalls) against the expected calls, by BFCL's AST rules; irrelevance items want no call."""
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    from evals.common import EvalRun, rate
    from evals.external import ast_match, read_bfcl, tool_specs
    from evals.report import markdown_table
    from tutor.config import get_settings
    from tutor.llm.load import get_llm

    cases = read_bfcl(args.dataset)[: args.limit]
    run = EvalRun("tools", args, model=get_settings().llm_preset, dataset=str(args.dataset), fmt="bfcl")
    llm = get_llm()

    def one(case) -> dict:
        msgs = [ChatMessage(role=MessageRole(m.get("role", "user")), content=m.get("content", "")) for m in case.messages]
        t0 = time.perf_counter()
        reply = llm.chat(msgs, tools=tool_specs(case), temperature=0.0, max_tokens=128)  # a call is short
        latency = time.perf_counter() - t0
        calls = reply.message.additional_kwargs.get("tool_calls") or []
        got = [{"name": c.name, "arguments": c.arguments} for c in calls]
        row = {"id": case.id, "category": case.category, "calls": got, "latency_s": round(latency, 2),
               "raw": reply.message.additional_kwargs.get("raw_text", reply.message.content)}
        if case.expected is None:
            row.update(ok=not got, why="" if not got else "called a tool where none fits")
        elif len(got) != len(case.expected):
            row.update(ok=False, why=f"{len(got)} calls, expected {len(case.expected)}")
        else:
            checks = [ast_match(g["name"], g["arguments"], e, case.functions) for g, e in zip(got, case.expected)]
            row.update(ok=all(ok for ok, _ in checks), why="; ".join(w for _, w in checks if w))
        return row

    run.score(cases, one, desc="tools (BFCL)")
    relevant = [r for r in run.items if r["category"] != "irrelevance" and "irrelevance" not in r["category"]]
    irrelevant = [r for r in run.items if r not in relevant]
    metrics = {"ast_accuracy": rate(r["ok"] for r in relevant),
               "no_call_rate": rate(not r["calls"] for r in irrelevant),
               "per_category": {c: rate(r["ok"] for r in run.items if r["category"] == c)
                                for c in sorted({r["category"] for r in run.items})}}
    table = markdown_table(["category", "n", "accuracy"],
                           [[c, sum(r["category"] == c for r in run.items), v] for c, v in metrics["per_category"].items()])
    table += (f"\n\nAST-match accuracy {metrics['ast_accuracy'] if metrics['ast_accuracy'] is not None else '–'}"
              f" on {len(relevant)} calls; no-call rate {metrics['no_call_rate'] if metrics['no_call_rate'] is not None else '–'}"
              f" on {len(irrelevant)} irrelevance items")
    return run.finish({k: v for k, v in metrics.items()}, table=table)


def main(argv: list[str] | None = None) -> int:
    from evals.common import EvalRun, apply_model_options, parser
    from evals.external import resolve
    from evals.report import markdown_table

    p = parser("tools", __doc__.splitlines()[0], dataset_help="Routing set (JSON lines), or BFCL-format file/folder.")
    p.add_argument("--errors", action="store_true", help="Print every wrongly routed message.")
    p.add_argument("--router", choices=["embedding", "grammar"], default="embedding",
                   help="embedding: the agent's router; grammar: the chat model picks under a JSON grammar.")
    args = p.parse_args(argv)
    apply_model_options(args)
    fmt = resolve(args.dataset, args.format, "tools", ("project", "bfcl"))
    if fmt == "bfcl":
        return bfcl_score(args)
    dataset = args.dataset or str(DATASET_PATH)
    cases = load_dataset(dataset)[: args.limit]
    # The embedding router's quality is the encoder's, the grammar router's the chat model's.
    if args.router == "embedding":
        from tutor.config import get_settings

        model = get_settings().embed_model
    else:
        from tutor.config import get_settings

        model = get_settings().llm_preset
    run = EvalRun("tools", args, model=model, dataset=args.dataset, fmt=fmt, gate_model=args.router)
    route = embedding_route() if args.router == "embedding" else grammar_route()
    run.score(cases, lambda case: score(route, [case])["items"][0], desc=f"tools ({args.router})")
    m = score_items(run.items)
    table = markdown_table(["router", "n", "tool acc", "arg exact", "invented", "no-call", "p50 ms", "p95 ms"],
                           [[args.router, m["n"], m["tool_accuracy"], m["argument_exact_match"],
                             m["invented_argument_rate"], m["no_call_rate"], _ms(m["latency_p50_s"]),
                             _ms(m["latency_p95_s"])]], digits=3)
    if args.errors:
        table += "\n" + "\n".join(
            f"- {item['id']}: {item['message']!r} -> {item['tool']} {json.dumps(item['arguments'])}"
            f" (want {item['expected_tool']} {json.dumps(item['expected_arguments'])})"
            for item in run.items if not item["args_ok"])
    # The rate of invented arguments must stay 0: gated as "1 - rate" so every key is a minimum.
    gated = {**m, "no_invented_arguments": 1.0 - m["invented_argument_rate"]}
    return run.finish(m, table=table, gate_metrics=gated)


def _ms(seconds):
    return None if seconds is None else 1000 * seconds


def grammar_route(settings=None):
    """The chat model picks the tool, its output constrained by a JSON-schema grammar to the tool names
    (llama.cpp); arguments still come from the learner's words. The comparison row of docs/agent.md."""
    from tutor.agent.router import TOOLS, fill_arguments
    from tutor.llm.load import get_llm

    llm = get_llm()
    llama = llm.llama
    schema = {"type": "object", "properties": {"tool": {"type": "string", "enum": list(TOOLS)}}, "required": ["tool"]}
    system = ("Pick the tool for the student's message. Tools: search_knowledge (answer a question about deep "
              "learning or a library), run_experiment (train or run a demo), explain_run (explain a finished run), "
              "compare_runs (compare two runs), quiz (quiz the student), progress (the student's progress), "
              "none (greetings, thanks, small talk). Reply with JSON.")

    def route(message: str):
        out = llama.create_chat_completion(
            messages=[{"role": "system", "content": system}, {"role": "user", "content": message}],
            response_format={"type": "json_object", "schema": schema}, temperature=0.0, max_tokens=16)
        try:
            tool = json.loads(out["choices"][0]["message"]["content"])["tool"]
        except (ValueError, KeyError, TypeError):
            tool = "search_knowledge"
        return tool, fill_arguments(tool, message)

    route("hello")  # warm-up: the system prompt's prefix is cached from here on
    return route
