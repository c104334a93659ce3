"""`tutor eval SUITE [ARGS]`: the evals from the tutor's own CLI (same as `python -m evals`).

    tutor eval retrieval                 # hit@1 / hit@5 / MRR / nDCG per mode, gated on evals/thresholds.toml
    tutor eval tools --dataset evals/datasets/routing_blind2.jsonl
    tutor eval knowledge --dataset ../shared/external/mmlu-redux_machine_learning.csv --out runs/base
    tutor eval compare runs/base runs/adapter

The options are parsed by the suites (evals/common.py), so this command passes everything through.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("eval", help="Run an eval suite (retrieval, answers, faithfulness, tools, pedagogy, knowledge, experiments, speed, all) "
                                   "or compare two runs; exits 1 below a gate.",
                context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                                  "help_option_names": []})(eval_command)


def eval_command(ctx: typer.Context, suite: str = typer.Argument("", help="a suite, all, or compare")) -> None:
    from evals.__main__ import main

    rc = main([suite, *ctx.args] if suite else ["--help"])
    if rc:
        raise typer.Exit(rc)
