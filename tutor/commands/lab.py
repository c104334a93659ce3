"""`tutor experiment ...`: list, run, show and compare training experiments.

    tutor experiment list [--json]
    tutor experiment run KIND [--PARAM VALUE ...] [--json] [--max-seconds S] [--max-memory-mb M]
    tutor experiment runs [--json]
    tutor experiment show RUN_ID [--json]
    tutor experiment compare RUN_A RUN_B [--json]

Parameters after KIND are read by pydantic-settings' CLI source from the recipe's own pydantic
model (``--epochs 3 --dropout 0.2 --framework keras``; ``--batch-size`` = ``--batch_size``;
``--augmentation`` / ``--no-augmentation`` for a bool; ``--widths 4,16,64`` for a list), so a new
recipe needs no CLI code (``tutor/lab/catalog.py``).
Progress goes to stderr; stdout carries only the result (JSON with ``--json``).
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import typer


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    return str(value)


def _print_json(data: Any) -> None:
    from tutor.io import json_safe

    sys.stdout.write(json.dumps(json_safe(data), indent=2) + "\n")


class _Progress:
    """Live progress on stderr: a rich bar on a terminal, one line per epoch otherwise."""

    def __init__(self, kind: str, params: dict[str, Any]):
        from rich.console import Console

        self.console = Console(stderr=True, soft_wrap=True)
        self.total = params.get("epochs")
        self.bar = None
        if self.console.is_terminal:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                                TimeElapsedColumn(), console=self.console, transient=False)
            self.task = self.bar.add_task(kind, total=self.total, info="starting")
            self.bar.start()

    def __call__(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "epoch":
            shown = "  ".join(f"{k} {_fmt(v)}" for k, v in event.items()
                              if k not in ("type", "epoch", "run_id", "elapsed_s"))
            line = f"epoch {event['epoch']}" + (f"/{self.total}" if self.total else "") + f"  {shown}"
            if self.bar:
                self.bar.update(self.task, completed=event["epoch"], info=f"loss {_fmt(event.get('train_loss', float('nan')))}")
                self.bar.console.print(line, highlight=False)
            else:
                self.console.print(line, highlight=False)
        elif kind == "step" and self.bar:
            self.bar.update(self.task, info=f"step {event['step']} loss {_fmt(event.get('loss', float('nan')))}")
        elif kind in ("status", "log"):
            text = event.get("message") or event.get("stage", "")
            if self.bar:
                self.bar.update(self.task, info=text)
            elif kind == "log":
                self.console.print(f"[dim]{text}[/dim]", highlight=False)

    def close(self) -> None:
        if self.bar:
            self.bar.stop()


def _print_result(data: dict[str, Any]) -> None:
    from rich.console import Console

    out = Console(highlight=False, soft_wrap=True)
    status = data.get("status")
    head = f"[bold]{data['run_id']}[/bold]  {data.get('kind')}  status [bold]{status}[/bold]"
    if data.get("duration_s") is not None:
        head += f"  {data['duration_s']:.1f} s"
    head += f"  ({data.get('framework', 'torch')}, {data.get('device', 'cpu')})"
    out.print(head)
    if data.get("reason"):
        out.print(f"reason: {data['reason']}")
    params = data.get("params") or {}
    out.print("params: " + ", ".join(f"{k}={_fmt(v)}" for k, v in params.items()))
    metrics = data.get("metrics") or {}
    if metrics:
        out.print("metrics: " + ", ".join(f"{k}={_fmt(v)}" for k, v in metrics.items()))
    diag = data.get("diagnosis") or {}
    if diag:
        out.print(f"diagnosis ({diag.get('verdict')}): {diag.get('summary')}")
        for tip in diag.get("suggestions") or []:
            out.print(f"  - {tip}")
    for name, path in (data.get("artifacts") or {}).items():
        out.print(f"{name}: {path}")


def register(app: typer.Typer) -> None:
    """Add the `experiment` group to the top-level app."""
    exp = typer.Typer(help="Run, inspect and compare training experiments (CNN, RNN, MLP...).", no_args_is_help=True)
    app.add_typer(exp, name="experiment")

    @exp.command("list")
    def list_kinds(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """The experiments, their parameters, defaults and valid ranges."""
        from tutor.lab.catalog import cards, describe_param, param_spec

        recipes = cards()
        data = [{"kind": k, "summary": cls.summary, "primary_metric": cls.primary_metric,
                 "higher_is_better": cls.higher_is_better, "params": param_spec(k)}
                for k, cls in sorted(recipes.items())]
        if as_json:
            _print_json(data)
            return
        for item in data:
            typer.echo(f"{item['kind']}: {item['summary']}")
            for p in item["params"]:
                default = ",".join(map(str, p["default"])) if isinstance(p["default"], list) else _fmt(p["default"])
                typer.echo(f"    --{p['name'].replace('_', '-'):<14} default {default:<8} "
                           f"{describe_param(p)}. {p['description']}")

    @exp.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def run_kind(
        ctx: typer.Context,
        kind: str = typer.Argument(..., help="Which experiment (see `tutor experiment list`)."),
        as_json: bool = typer.Option(False, "--json", help="Print the run's JSON on stdout."),
        max_seconds: float = typer.Option(None, "--max-seconds", help="Wall-time cap for this run."),
        max_memory_mb: int = typer.Option(None, "--max-memory-mb", help="Memory cap for this run, in MB."),
    ) -> None:
        """Train one experiment: `tutor experiment run cnn --epochs 3 --dropout 0.2`. Ctrl-C cancels."""
        from tutor.lab.catalog import parse_cli_params, validate_params
        from tutor.lab.runner import start_run

        params = validate_params(kind, parse_cli_params(kind, list(ctx.args)))
        handle = start_run(kind, params, max_seconds=max_seconds, max_memory_mb=max_memory_mb)
        progress = _Progress(kind, handle.params)
        progress.console.print(f"[dim]run {handle.run_id} -> {handle.run_dir}[/dim]", highlight=False)
        interrupts = 0
        events = handle.events()
        while True:
            try:
                for event in events:
                    if event.get("type") != "done":
                        progress(event)
                break
            except KeyboardInterrupt:
                # First Ctrl-C: ask the run to stop at its next step; second: stop it now.
                interrupts += 1
                handle.cancel(force=interrupts > 1)
                progress.console.print("[yellow]cancelling... (Ctrl-C again to stop at once)[/yellow]")
                events = handle.events()
        progress.close()
        result = handle.wait()
        data = result.to_json()
        if as_json:
            _print_json(data)
        else:
            _print_result(data)
        if result.status != "ok":
            print(f"error: run {result.run_id} ended {result.status}: {result.reason}", file=sys.stderr)
            raise typer.Exit(130 if result.status == "cancelled" else 1)

    @exp.command("runs")
    def list_runs(
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
        kind: str = typer.Option(None, "--kind", help="Only runs of this experiment."),
        limit: int = typer.Option(20, "--limit", min=1, max=10000, help="How many, newest first."),
    ) -> None:
        """Stored runs, newest first."""
        from tutor.lab.runs import list_runs as _list

        rows = _list(kind=kind, limit=limit)
        if as_json:
            _print_json(rows)
            return
        if not rows:
            typer.echo("no runs yet; start one with `tutor experiment run cnn`")
        for r in rows:
            value = _fmt(r["value"]) if r["value"] is not None else "-"
            typer.echo(f"{r['run_id']:<34} {r['status'] or '?':<10} {r['primary_metric']}={value:<8} {r['verdict'] or ''}")

    @exp.command("show")
    def show(run_id: str = typer.Argument(..., help="Run id (a unique prefix is enough)."),
             as_json: bool = typer.Option(False, "--json", help="Print the run's JSON.")) -> None:
        """One run: params, metrics, diagnosis and artifact paths."""
        from tutor.lab.runs import load_run

        data = load_run(run_id)
        if as_json:
            _print_json(data)
        else:
            _print_result(data)

    @exp.command("compare")
    def compare(run_a: str = typer.Argument(..., help="Run A's id."), run_b: str = typer.Argument(..., help="Run B's id."),
                as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """A vs B: parameters that differ, metric differences, and both curves on one PNG."""
        from tutor.lab.compare import compare_runs

        data = compare_runs(run_a, run_b)
        if as_json:
            _print_json(data)
            return
        typer.echo(f"A = {data['a']}  B = {data['b']}")
        if data.get("warning"):
            typer.echo(f"note: {data['warning']}")
        typer.echo(data["summary"])
        for key, v in data["params_diff"].items():
            typer.echo(f"  param  {key:<16} A {_fmt(v['a']):<10} B {_fmt(v['b'])}")
        for key, v in data["metrics_diff"].items():
            better = {"a": "A better", "b": "B better", "same": "same"}.get(v.get("better", ""), "")
            delta = f"{v['delta']:+.4g}" if "delta" in v else ""
            typer.echo(f"  metric {key:<20} A {_fmt(v['a']):<10} B {_fmt(v['b']):<10} {delta:<10} {better}")
        if data.get("plot"):
            typer.echo(f"curves: {data['plot']}")
