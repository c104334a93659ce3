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

import argparse
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
    n = len(items)
    right_tool = [i for i in items if i["tool_ok"]]
    no_tool = [i for i in items if i["expected_tool"] == "none"]
    lat = sorted(i["latency_s"] for i in items)
    metrics = {
        "n": n,
        "tool_accuracy": len(right_tool) / n if n else 0.0,
        "argument_exact_match": sum(i["args_ok"] for i in right_tool) / len(right_tool) if right_tool else 0.0,
        "invented_argument_rate": sum(bool(i["invented"]) for i in items) / n if n else 0.0,
        "no_call_rate": sum(i["tool"] == "none" for i in no_tool) / len(no_tool) if no_tool else None,
        "latency_p50_s": statistics.median(lat) if lat else None,
        "latency_p95_s": lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else None,
    }
    return {"suite": "tools", "metrics": metrics, "items": items}


def embedding_route(settings=None):
    from tutor.agent.router import Router

    router = Router(settings)
    router.warm_up()
    router.route("warm up the encoder")

    def route(message: str):
        d = router.route(message)
        return d.tool, d.arguments

    return route


def main(argv: list[str] | None = None) -> int:
    from evals.report import markdown_table, write_json

    parser = argparse.ArgumentParser(prog="python -m evals tools", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=str(DATASET_PATH), help="Routing set (JSON lines).")
    parser.add_argument("--json", dest="json_path", help="Also write the full report here.")
    parser.add_argument("--errors", action="store_true", help="Print every wrongly routed message.")
    parser.add_argument("--router", choices=["embedding", "grammar"], default="embedding",
                        help="embedding: the agent's router; grammar: the chat model picks under a JSON grammar.")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N messages.")
    parser.add_argument("--thresholds", default=None, help="Minimum scores (TOML, [tools] table; default "
                        "evals/thresholds.toml): exit 1 below any of them.")
    parser.add_argument("--no-gate", action="store_true", help="Report only; check no minimum.")
    args = parser.parse_args(argv)
    from evals.gates import THRESHOLDS_PATH, check, load_thresholds

    thresholds = args.thresholds or THRESHOLDS_PATH
    if not args.no_gate:
        load_thresholds(thresholds)  # a missing or malformed file fails now, not after the run
    cases = load_dataset(args.dataset)[: args.limit]
    report = score(embedding_route() if args.router == "embedding" else grammar_route(), cases)
    report["dataset"] = str(args.dataset)
    m = report["metrics"]
    print(markdown_table(["router", "n", "tool acc", "arg exact", "invented", "no-call", "p50 ms", "p95 ms"],
                         [[args.router, m["n"], m["tool_accuracy"], m["argument_exact_match"],
                           m["invented_argument_rate"], m["no_call_rate"], 1000 * m["latency_p50_s"],
                           1000 * m["latency_p95_s"]]], digits=3))
    if args.errors:
        for item in report["items"]:
            if not item["args_ok"]:
                print(f"- {item['id']}: {item['message']!r} -> {item['tool']} {json.dumps(item['arguments'])}"
                      f" (want {item['expected_tool']} {json.dumps(item['expected_arguments'])})")
    if args.json_path:
        write_json(args.json_path, report)
    if args.no_gate:
        return 0
    # The rate of invented arguments must stay 0: gated as "1 - rate" so every key is a minimum.
    gated = {**m, "no_invented_arguments": 1.0 - m["invented_argument_rate"]}
    failures = check("tools", gated, thresholds_path=thresholds, model=args.router)
    for line in failures:
        print(line)
    return 1 if failures else 0


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
