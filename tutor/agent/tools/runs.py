"""``explain_run`` and ``compare_runs``: what a finished run's numbers say, in plain words, cited.

The explanation is assembled from the run's record (never the model's memory of it), so its
numbers are the real ones: the primary metric, the epoch where validation loss turned, the
diagnosis. Why the curve behaves so comes from a knowledge passage, quoted and cited [1].
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from tutor.agent.ask import SourceRef
from tutor.agent.text import sentences as split_sentences
from tutor.agent.tools.base import ToolContext, ToolOutput, as_ref, search_passages
from tutor.errors import TutorError

#: What to look up to explain each diagnosis verdict.
VERDICT_QUERIES = {
    "overfitting": "dropout prevents overfitting by randomly dropping units during training",
    "generalisation_gap": "dropout prevents overfitting by randomly dropping units during training",
    "underfitting": "model too small to fit the training data, underfitting, more capacity",
    "still_improving": "learning rate schedule training longer converge",
    "converged": "gradient descent converges to a minimum of the loss",
    "diverged": "learning rate too large loss diverges explodes",
    "vanishing_gradients": "vanishing gradient sigmoid saturates ReLU deep networks",
    "too_short": "training epochs gradient descent learning curve",
}


class ExplainRunArgs(BaseModel):
    """Explain a finished experiment run: its numbers, the shape of its curves, and why."""

    run_id: str | None = Field(None, description="Run id (or a unique prefix); none = the learner's latest run.")


class CompareRunsArgs(BaseModel):
    """Compare two runs: parameter differences, metric differences, which did better and why."""

    a: str | None = Field(None, description="First run id; none = the learner's second-latest run.")
    b: str | None = Field(None, description="Second run id; none = the learner's latest run.")


def _pct(x: Any) -> str:
    return f"{100 * float(x):.1f}%" if isinstance(x, (int, float)) else "n/a"


def _num(x: Any) -> str:
    return f"{float(x):.4g}" if isinstance(x, (int, float)) else "n/a"


def _turn_epoch(history: list[dict]) -> tuple[int, float] | None:
    """The epoch with the lowest validation loss, when the loss rose after it."""
    vals = [(h.get("epoch"), h.get("val_loss")) for h in history if isinstance(h.get("val_loss"), (int, float))]
    if len(vals) < 2:
        return None
    epoch, best = min(vals, key=lambda x: x[1])
    return (int(epoch), float(best)) if epoch != vals[-1][0] else None


def _best_sentences(text: str, words: set[str], limit: int = 2) -> str:
    """The passage's sentences sharing most words with the query, in passage order."""
    sentences = split_sentences(text, min_chars=31, skip_lists=True)
    scored = sorted(range(len(sentences)),
                    key=lambda i: -len(words & set(re.findall(r"[a-z]+", sentences[i].lower()))))[:limit]
    return " ".join(sentences[i] for i in sorted(scored))


def explain_record(record: dict, ctx: ToolContext) -> tuple[str, list[SourceRef]]:
    """A learner-facing explanation of one run record, with its real numbers and one cited passage."""
    metrics = record.get("metrics") or {}
    history = record.get("history") or []
    diagnosis = record.get("diagnosis") or {}
    params = record.get("params") or {}
    primary = record.get("primary_metric") or "test_accuracy"
    lines = []
    value = metrics.get(primary)
    shown = _pct(value) if "accuracy" in primary else _num(value)
    epochs = len(history)
    lines.append(f"Run `{record['run_id']}` ({record.get('kind')}, {epochs} epoch{'s' if epochs != 1 else ''}): "
                 f"{primary.replace('_', ' ')} {shown}.")
    if history:
        last = history[-1]
        parts = [f"{k.replace('_', ' ')} {_pct(v) if 'accuracy' in k else _num(v)}"
                 for k, v in last.items() if k in ("train_loss", "val_loss", "train_accuracy", "val_accuracy")]
        if parts:
            lines.append(f"At the last epoch: {', '.join(parts)}.")
    turn = _turn_epoch(history)
    if turn:
        lines.append(f"Validation loss was lowest at epoch {turn[0]} ({_num(turn[1])}) and rose after it.")
    if diagnosis.get("summary"):
        lines.append(f"Diagnosis: {diagnosis['summary']}")
    for suggestion in (diagnosis.get("suggestions") or [])[:2]:
        lines.append(f"Try: {suggestion}")
    verdict = str(diagnosis.get("verdict") or "")
    citations: list[SourceRef] = []
    query = VERDICT_QUERIES.get(verdict)
    if query:
        if verdict == "overfitting" and params.get("dropout"):
            query = "overfitting remedies weight decay data augmentation early stopping dropout"
        try:
            # Why a curve behaves so is explained in the paper notes, not in API docstrings.
            from tutor.agent.scope import NAVIGATION

            passages = [p for p in search_passages(ctx, query, top_k=4, feed="papers")
                        if not NAVIGATION.search(p.section or "")][:1]
        except TutorError:
            passages = []
        if passages:
            why = _best_sentences(passages[0].text, set(re.findall(r"[a-z]+", query.lower())))
            if why:
                citations = [as_ref(1, passages[0])]
                lines.append(f"Why: {why} [1]")
    return "\n".join(lines), citations


def _latest(ctx: ToolContext, n: int) -> list[str]:
    rows = [r for r in ctx.memory.runs_for(ctx.user, limit=20) if r["status"] not in ("running",)]
    return [r["run_id"] for r in rows[:n]]


def _load_owned(ctx: ToolContext, run_id: str) -> dict:
    from tutor.lab.runs import load_run

    record = load_run(run_id, ctx.settings)
    if not ctx.memory.owns_run(ctx.user, record["run_id"]):
        raise TutorError(f"no run '{run_id}' among your runs")
    return record


def explain_run(args: ExplainRunArgs, ctx: ToolContext) -> ToolOutput:
    run_id = args.run_id
    if not run_id:
        latest = _latest(ctx, 1)
        if not latest:
            return ToolOutput(ok=False, message="you have no finished runs yet",
                              reply="You have no finished runs yet. Ask me to train one, e.g. \"train the CNN for 3 epochs\".")
        run_id = latest[0]
    record = _load_owned(ctx, run_id)
    reply, citations = explain_record(record, ctx)
    return ToolOutput(message=f"explained run {record['run_id']}", reply=reply, citations=citations,
                      result={"run_id": record["run_id"], "metrics": record.get("metrics"),
                              "diagnosis": record.get("diagnosis")})


def compare_runs(args: CompareRunsArgs, ctx: ToolContext) -> ToolOutput:
    from tutor.lab.compare import compare_runs as compare

    a, b = args.a, args.b
    if not (a and b):
        latest = _latest(ctx, 2)
        if len(latest) < 2:
            return ToolOutput(ok=False, message="comparing needs two finished runs",
                              reply="Comparing needs two finished runs; you have "
                                    f"{len(latest)}. Ask me to train another one first.")
        b, a = latest[0], latest[1]
    ra, rb = _load_owned(ctx, a), _load_owned(ctx, b)
    result = compare(ra["run_id"], rb["run_id"], ctx.settings)
    lines = [result["summary"]]
    for key, diff in result["params_diff"].items():
        lines.append(f"- {key}: {diff['a']} → {diff['b']}")
    if result.get("warning"):
        lines.append(f"Note: {result['warning']}.")
    return ToolOutput(message=f"compared {ra['run_id']} and {rb['run_id']}", reply="\n".join(lines), result=result)
