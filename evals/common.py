"""What every suite shares: the common options, the uniform report, progress, Ctrl-C and the gate.

Every suite parses its arguments with :func:`parser` (one definition of the common options, not
one copy per suite) and scores its items inside an :class:`EvalRun`::

    args = parser("knowledge", "Multiple-choice accuracy").parse_args(argv)
    run = EvalRun("knowledge", args, model=..., dataset=...)
    run.score(cases, score_one)            # progress bar; Ctrl-C stops here, keeping what was scored
    return run.finish(metrics_of(run.items))   # JSON + Markdown under --out, gate, exit code

The report is the same for every suite::

    {"suite", "model", "adapter", "dataset", "format", "n", "metrics": {...}, "items": [...],
     "passed", "partial", "gate": [...], "started", "wall_s", "extra": {...}}

``passed`` is None when no gate ran (``--no-gate``, or a partial run), True/False otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.report import markdown_table, write_json
from tutor.errors import TutorError
from tutor.io import atomic_write_text, json_safe

#: The formats ``--format`` names (and ``evals.external.detect`` finds); "project" is a suite's own JSONL.
FORMATS = ("project", "mmlu", "mlquestions", "mrbench", "halueval", "bfcl")


def parser(suite: str, description: str, *, dataset_help: str = "") -> argparse.ArgumentParser:
    """An argparse parser holding the options common to every suite; the suite adds its own."""
    p = argparse.ArgumentParser(prog=f"python -m evals {suite}", description=description)
    g = p.add_argument_group("common eval options")
    g.add_argument("--model", default=None, metavar="PRESET",
                   help="LLM preset (sets TUTOR_LLM_PRESET); default: the configured one.")
    g.add_argument("--adapter", default=None, metavar="PATH",
                   help="LoRA adapter: a PEFT dir, with adapter.gguf inside for llama.cpp (sets TUTOR_ADAPTER_PATH).")
    g.add_argument("--dataset", default=None, metavar="PATH",
                   help=dataset_help or "Dataset file: the suite's own JSONL or a public set (format detected).")
    g.add_argument("--format", default=None, choices=FORMATS, help="Name the dataset's format instead of detecting it.")
    g.add_argument("--limit", type=int, default=None, metavar="N", help="Only the first N items.")
    # `--json` alone prints the report on stdout; `--json PATH` (the older form) writes it to PATH.
    g.add_argument("--json", dest="json_path", nargs="?", const="-", default=None, metavar="PATH",
                   help="Print the report as JSON on stdout (or, with PATH, also write it there).")
    g.add_argument("--out", default=None, metavar="DIR",
                   help="Write <suite>.json and <suite>.md here (default: $TUTOR_HOME/evals/<time>/).")
    g.add_argument("--thresholds", default=None, metavar="FILE",
                   help="Minimum scores (TOML; default evals/thresholds.toml): exit 1 below any of them.")
    g.add_argument("--no-gate", action="store_true", help="Report only; check no minimum.")
    g.add_argument("--no-progress", action="store_true", help="No progress bar.")
    return p


def apply_model_options(args: argparse.Namespace) -> None:
    """--model / --adapter become the TUTOR_* variables every layer reads; cached settings are dropped."""
    from tutor.config import get_settings

    changed = False
    if getattr(args, "model", None):
        from tutor.llm.presets import get_preset

        get_preset(args.model)  # an unknown name is one line listing the known ones
        os.environ["TUTOR_LLM_PRESET"] = args.model
        changed = True
    if getattr(args, "adapter", None):
        path = Path(args.adapter).expanduser()
        if not path.exists():
            raise TutorError(f"adapter {path} does not exist; pass a PEFT adapter directory.")
        os.environ["TUTOR_ADAPTER_PATH"] = str(path.resolve())
        changed = True
    if changed:
        get_settings.cache_clear()
    if getattr(args, "adapter", None) and get_settings().llm_backend == "llamacpp":
        # llama.cpp loads the adapter's GGUF LoRA form (tutor finetune export); without one, scoring
        # the base model under the adapter's name would make every comparison a lie, so refuse here.
        from tutor.llm.load import gguf_adapter

        gguf_adapter(Path(os.environ["TUTOR_ADAPTER_PATH"]))
    if getattr(args, "limit", None) is not None and args.limit < 1:
        raise TutorError("--limit must be at least 1.")


def default_out_dir() -> Path:
    from tutor.config import get_settings

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path(get_settings().home) / "evals" / stamp


class EvalRun:
    """One suite run: collects items, shows progress, survives Ctrl-C, writes and gates the report."""

    def __init__(self, suite: str, args: argparse.Namespace, *, model: str | None, dataset: str | None,
                 fmt: str = "project", gate_suite: str | None = None, gate_model: str | None = None,
                 adapter: str | None = None):
        self.suite, self.args, self.model, self.dataset, self.format = suite, args, model, dataset, fmt
        # External sets gate under their own table ([retrieval-mlquestions]), never the project set's.
        self.gate_suite = gate_suite or (suite if fmt == "project" else f"{suite}-{fmt}")
        self.gate_model = gate_model if gate_model is not None else model
        self.adapter = adapter if adapter is not None else (os.environ.get("TUTOR_ADAPTER_PATH") or None)
        self.items: list[dict] = []
        self.partial = False
        self.started = datetime.now(UTC).isoformat(timespec="seconds")
        self._t0 = time.perf_counter()
        self.thresholds = None
        if not getattr(args, "no_gate", False):
            from evals.gates import THRESHOLDS_PATH, load_thresholds

            self.thresholds = Path(args.thresholds) if getattr(args, "thresholds", None) else THRESHOLDS_PATH
            load_thresholds(self.thresholds)  # a bad file fails now, not after an hour of scoring

    # --- scoring ---------------------------------------------------------------------------
    def score(self, items: Iterable[Any], fn: Callable[[Any], Any], desc: str | None = None) -> list[dict]:
        """``fn(item)`` for every item, with a progress bar; its dict (or list of dicts) is kept.

        Ctrl-C stops the loop and marks the run partial: the items already scored stay in the
        report (the exception is caught here, around the caller's scoring, not in a generator,
        which would never see it).
        """
        from tqdm import tqdm

        items = list(items)
        bar = tqdm(total=len(items), desc=desc or f"{self.suite} eval", unit="item", file=sys.stderr,
                   leave=False, disable=getattr(self.args, "no_progress", False))
        try:
            for item in items:
                row = fn(item)
                for r in row if isinstance(row, list) else [row] if row is not None else []:
                    self.add(r)
                bar.update(1)
        except KeyboardInterrupt:
            self.partial = True
        finally:
            bar.close()
        return self.items

    def add(self, item: Mapping[str, Any]) -> None:
        self.items.append(dict(item))

    def guard(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn()``; a Ctrl-C inside it marks the run partial instead of losing it."""
        try:
            return fn()
        except KeyboardInterrupt:
            self.partial = True
            return None

    # --- report ----------------------------------------------------------------------------
    def report(self, metrics: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return json_safe({
            "suite": self.suite, "model": self.model, "adapter": self.adapter, "dataset": self.dataset,
            "format": self.format, "n": len(self.items), "metrics": dict(metrics), "items": self.items,
            "passed": None, "partial": self.partial, "gate": [], "started": self.started,
            "wall_s": round(time.perf_counter() - self._t0, 2), "extra": dict(extra or {}),
        })

    def finish(self, metrics: Mapping[str, Any], extra: Mapping[str, Any] | None = None,
               table: str | None = None, gate_metrics: Mapping[str, Any] | None = None) -> int:
        """Gate, write ``<suite>.json`` and ``<suite>.md`` under --out, print; return the exit code."""
        report = self.report(metrics, extra)
        failures: list[str] = []
        if self.thresholds is not None and not self.partial:
            from evals.gates import check

            failures = check(self.gate_suite, gate_metrics if gate_metrics is not None else report["metrics"],
                             thresholds_path=self.thresholds, model=self.gate_model)
            report["passed"], report["gate"] = not failures, failures
        md = table if table is not None else metrics_table(report)
        out = Path(self.args.out) if getattr(self.args, "out", None) else default_out_dir()
        json_file = write_json(out / f"{self.suite}.json", report)
        atomic_write_text(out / f"{self.suite}.md", markdown_report(report, md))
        json_arg = getattr(self.args, "json_path", None)
        if json_arg and json_arg != "-":
            write_json(json_arg, report)
        if json_arg == "-":
            print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        else:
            print(md)
            print(f"wrote {json_file} and {json_file.with_suffix('.md')}", file=sys.stderr)
        if self.partial:
            print(f"interrupted: the report keeps the {len(self.items)} items scored before Ctrl-C", file=sys.stderr)
            return 130
        for line in failures:
            print(f"below threshold: {line}", file=sys.stderr)
        if report["passed"]:
            print(f"thresholds met ({self.thresholds}, [{self.gate_suite}])", file=sys.stderr)
        return 1 if failures else 0


def metrics_table(report: Mapping[str, Any]) -> str:
    """A two-column Markdown table of the report's scalar metrics."""
    rows = [[k, v] for k, v in report["metrics"].items() if not isinstance(v, (dict, list))]
    return markdown_table(["metric", "value"], rows)


def markdown_report(report: Mapping[str, Any], table: str) -> str:
    head = (f"# eval {report['suite']}\n\nmodel: {report['model']} · adapter: {report['adapter'] or '–'} · "
            f"dataset: {report['dataset'] or 'shipped'} ({report['format']}) · n = {report['n']}"
            f"{' · PARTIAL (interrupted)' if report['partial'] else ''} · started {report['started']}\n")
    gate = ""
    if report["passed"] is not None:
        gate = "\ngate: passed\n" if report["passed"] else "\ngate: FAILED\n" + "".join(f"- {g}\n" for g in report["gate"])
    return f"{head}\n{table}\n{gate}"


def rate(values: Iterable[Any]) -> float | None:
    """Share of truthy values; None for an empty list (not 0: nothing was measured)."""
    values = list(values)
    return sum(bool(v) for v in values) / len(values) if values else None


def cohen_kappa(a: list[Any], b: list[Any]) -> float | None:
    """Cohen's kappa of two label lists. Written out (six lines) rather than importing
    scikit-learn, which the project does not otherwise depend on."""
    n = len(a)
    if n == 0 or n != len(b):
        return None
    labels = set(a) | set(b)
    observed = sum(x == y for x, y in zip(a, b)) / n
    expected = sum((a.count(lab) / n) * (b.count(lab) / n) for lab in labels)
    return 1.0 if expected == 1.0 else (observed - expected) / (1.0 - expected)


def agreement(judge: list[Any], human: list[Any]) -> dict[str, Any]:
    """Accuracy, Cohen's kappa and the confusion counts of a binary judge against human labels."""
    n = len(judge)
    tp = sum(1 for j, h in zip(judge, human) if j and h)
    fp = sum(1 for j, h in zip(judge, human) if j and not h)
    fn = sum(1 for j, h in zip(judge, human) if not j and h)
    return {
        "n": n,
        "accuracy": sum(bool(j) == bool(h) for j, h in zip(judge, human)) / n if n else None,
        "kappa": cohen_kappa([bool(x) for x in judge], [bool(x) for x in human]),
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "human_positive_rate": sum(bool(h) for h in human) / n if n else None,
        "judge_positive_rate": sum(bool(j) for j in judge) / n if n else None,
    }
