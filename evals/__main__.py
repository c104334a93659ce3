"""`python -m evals SUITE [ARGS]` (also `tutor eval SUITE`): run an evaluation suite from the CLI.

Suites: retrieval (hit@1/hit@k/MRR/nDCG of dense, BM25 and hybrid search), answers (correctness,
citations, abstention), faithfulness (exact names and numbers kept), tools (the agent's routing; the
LLM's tool calls on BFCL files), pedagogy (guide mode; the judge against MRBench), knowledge
(multiple choice closed-book vs with retrieval), experiments (lab recipes meet their bars,
reproducibly), speed (TTFT, decode tok/s, retrieval and routing latency), all (the fast suites in
turn), and `compare RUN_A RUN_B` (per-metric deltas of two reports). Every suite takes the common
options of evals.common (--model --adapter --dataset --format --limit --json --out --thresholds),
writes <suite>.json and <suite>.md under --out, and exits 1 when a score falls below its minimum
in evals/thresholds.toml (one line per metric).
"""

from __future__ import annotations

import importlib
import sys

SUITES = {
    "retrieval": "evals.retrieval",
    "answers": "evals.answers",
    "faithfulness": "evals.faithfulness",
    "tools": "evals.tools",
    "pedagogy": "evals.pedagogy",
    "knowledge": "evals.knowledge",
    "experiments": "evals.experiments",
    "speed": "evals.speed",
    "all": "evals.all",
    "compare": "evals.compare",
}


def usage() -> str:
    return ("usage: tutor eval {" + "|".join(SUITES) + "} [--help | options]\n"
            "  common options: --model PRESET --adapter PATH --dataset PATH --format NAME --limit N --json\n"
            "                  --out DIR --thresholds FILE --no-gate --no-progress\n"
            "  tutor eval compare RUN_A RUN_B   per-metric deltas of two reports (files or --out dirs)")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in SUITES:
        if argv and argv[0] not in {"-h", "--help"}:
            print(f"error: unknown suite {argv[0]!r}; choose one of: {', '.join(SUITES)}", file=sys.stderr)
            return 2
        print(usage())
        return 0
    module = importlib.import_module(SUITES[argv[0]])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    from evals.report import run_cli

    run_cli(main)
