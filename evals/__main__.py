"""`python -m evals SUITE [ARGS]`: run an evaluation suite from the CLI.

Suites: retrieval (hit@k / MRR of dense, BM25 and hybrid search), faithfulness (exact
names and numbers kept in answers, citation validity), tools (the agent's routing: tool choice,
argument exact match, invented arguments). Each suite module has ``main(argv)``.

``python -m evals retrieval`` also checks the minimums in ``evals/thresholds.toml`` (another
file with ``--thresholds FILE``, none with ``--no-gate``): it prints one line per score below
its minimum and exits 1. The gate logic is ``evals.gates.check``.
"""

from __future__ import annotations

import importlib
import sys

SUITES = {
    "retrieval": "evals.retrieval",
    "faithfulness": "evals.faithfulness",
    "tools": "evals.tools",
    "answers": "evals.answers",
    "pedagogy": "evals.pedagogy",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in SUITES:
        if argv and argv[0] not in {"-h", "--help"}:
            print(f"error: unknown suite {argv[0]!r}; choose one of: {', '.join(SUITES)}", file=sys.stderr)
            return 2
        print("usage: python -m evals {" + "|".join(SUITES) + "} [--help | suite options]")
        print("  retrieval and tools also gate on evals/thresholds.toml: --thresholds FILE, or --no-gate")
        return 0
    module = importlib.import_module(SUITES[argv[0]])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    from evals.report import run_cli

    run_cli(main)
