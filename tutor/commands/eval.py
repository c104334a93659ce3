"""`tutor eval SUITE [ARGS]`: the evals from the tutor's own CLI (same as `python -m evals`).

    tutor eval retrieval                 # hit@1 / hit@5 / MRR per mode, gated on evals/thresholds.toml
    tutor eval tools --dataset evals/datasets/routing_blind2.jsonl
    tutor eval faithfulness --limit 10
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("eval", help="Run an eval suite (retrieval, faithfulness, tools); exits 1 below a gate.",
                context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                                  "help_option_names": []})(eval_command)


def eval_command(ctx: typer.Context, suite: str = typer.Argument("", help="retrieval | faithfulness | tools")) -> None:
    from evals.__main__ import main

    rc = main([suite, *ctx.args] if suite else ["--help"])
    if rc:
        raise typer.Exit(rc)
