"""Faithfulness of `ask`: are exact names and numbers from the passages kept in the answer?

Each row of ``evals/datasets/faithfulness.jsonl`` is a roadmap or API-docs question whose
right answer contains an exact string from a passage (``sparse_categorical_crossentropy``,
``Conv2D(32, (3, 3)``, ``batch_first``, ``0.5``...). ``must_contain`` is matched
case-sensitively as a substring of the answer; ``match: "all"`` (default) needs every string,
``match: "any"`` needs one of them (for equivalent spellings such as ``1e-3`` / ``0.001``).

Reported:
- ``exact_keep_rate``: answers that contain the required strings / all questions;
- ``given_rate``: questions where retrieval put the strings into the prompt at all, and
  ``keep_rate_when_given``: the keep rate over those (the part the LLM is responsible for);
- ``citation_validity``: answers whose every [n] maps to a passage given to the model, and
  ``invalid_markers``: numbers the model cited that matched no passage (removed before display).

    python -m evals faithfulness                         # default model (settings), temperature 0
    python -m evals faithfulness --style plain --json before.json   # the baseline prompt
    python -m evals faithfulness --limit 5 --preset smollm2-135m

Only public APIs: ``tutor.agent.ask.ask``, ``tutor.llm.load.load_llm``,
``knowledge.corpus_default.ensure_default_corpus``.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from evals.report import markdown_table
from tutor.errors import TutorError

DATASET_PATH = Path(__file__).parent / "datasets" / "faithfulness.jsonl"
OFF_TOPIC_PATH = Path(__file__).parent / "datasets" / "off_topic.jsonl"
RETRIEVAL_PATH = Path(__file__).parent / "datasets" / "retrieval.jsonl"


class FaithCase(BaseModel):
    """One question and the exact strings a faithful answer must keep."""

    id: str = Field(description="Stable id, e.g. 'roadmap-cnn-loss'.")
    question: str = Field(min_length=3, description="The question as a learner would ask it.")
    must_contain: list[str] = Field(min_length=1, description="Exact, case-sensitive substrings of a right answer.")
    match: Literal["all", "any"] = Field("all", description="all: every string is needed; any: one is enough.")
    feed: str | None = Field(None, description="Restrict retrieval to this feed (roadmap | docs | papers).")


def load_cases(path: Path = DATASET_PATH) -> list[FaithCase]:
    cases = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            cases.append(FaithCase.model_validate_json(line))
        except ValidationError as exc:
            raise TutorError(f"{path.name} line {lineno} is not a valid case: {exc.errors()[0]['msg']}") from None
    return cases


def _matches(text: str, case: FaithCase) -> bool:
    hits = [s in text for s in case.must_contain]
    return all(hits) if case.match == "all" else any(hits)


def run(
    llm: Any | None = None,
    limit: int | None = None,
    *,
    style: Literal["exact", "plain"] = "exact",
    most_relevant: Literal["first", "last"] = "first",
    cases: list[FaithCase] | None = None,
    progress: bool = True,
    on_row: Any | None = None,
) -> dict:
    """Ask every question once; return the report dict (rates, per-question rows)."""
    from tutor.agent.ask import ask

    if llm is None:
        from tutor.llm.load import get_llm

        llm = get_llm()
    cases = (cases or load_cases())[: limit or None]
    rows = []
    iterator = cases
    if progress:
        from tqdm import tqdm

        iterator = tqdm(cases, desc="faithfulness", file=sys.stderr)
    for case in iterator:
        passages, answer = [], None
        for event in ask(case.question, feed=case.feed, llm=llm, stream=True, style=style, most_relevant=most_relevant):
            if event.type == "passages":
                passages = event.passages
            elif event.type == "answer":
                answer = event.answer
        given_text = "\n".join(p.text for p in passages)
        shown = {int(n) for n in re.findall(r"(?<![\w)\]])\[(\d+)\]", _prose(answer.answer))}
        valid_numbers = {c.n for c in answer.citations}
        rows.append(
            {
                "id": case.id,
                "kept": _matches(answer.answer, case),
                "given": _matches(given_text, case),
                "citations_valid": shown <= valid_numbers
                and all(c.text in given_text for c in answer.citations),
                "cited": len(answer.citations),
                "invalid_markers": len(answer.invalid_citations),
                "latency_s": round(answer.latency_s, 2),
                "answer": answer.answer,
            }
        )
        if on_row is not None:
            on_row(rows)
    return summarise(rows, llm, style, most_relevant)


def calibrate_gate() -> dict:
    """Best dense similarity (what `ask`'s relevance gate reads) for on- and off-topic questions.

    On-topic: every faithfulness and retrieval-eval question; off-topic: ``off_topic.jsonl``.
    The gate threshold (``settings.ask_min_similarity``) should sit between the two.
    """
    from tutor.agent.ask import best_similarity

    def questions(path: Path) -> list[str]:
        if not path.exists():
            return []
        return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    on = [best_similarity(q, feed=None) for q in [c.question for c in load_cases()] + questions(RETRIEVAL_PATH)]
    off = [best_similarity(q, feed=None) for q in questions(OFF_TOPIC_PATH)]
    return {
        "on_topic": {"n": len(on), "min": min(on), "p05": _quantile(on, 0.05), "median": statistics.median(on)},
        "off_topic": {"n": len(off), "max": max(off), "p95": _quantile(off, 0.95), "median": statistics.median(off)},
    }


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _prose(text: str) -> str:
    """The answer without code, so x[1] in a snippet is not read as a citation."""
    return re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", text, flags=re.DOTALL))


def print_report(report: dict) -> None:
    print(
        markdown_table(
            ["model", "style", "best passage", "questions", "exact-keep", "given", "keep | given", "citations valid", "invalid [n]"],
            [[report["model"], report["style"], report["most_relevant"], report["questions"], report["exact_keep_rate"],
              report["given_rate"], report["keep_rate_when_given"], report["citation_validity"], report["invalid_markers"]]],
        )
    )
    print()
    print(markdown_table(["id", "kept", "given", "citations valid", "cited"],
                         [[r["id"], r["kept"], r["given"], r["citations_valid"], r["cited"]] for r in report["rows"]]))


def supported_rules(answer: str, knowledge: str, question: str) -> dict[str, bool]:
    """The support judges on one (answer, passage) pair; each says whether the passage backs the answer.

    - ``attribution``: the rule the tutor uses to attach [n] markers (tutor.agent.attribution.best_passage):
      at least 3 content words and half of them found in the passage. Short answers ("Delhi") have
      too few words for it, so it says "unsupported" whatever the passage holds.
    - ``new_words``: the answer's content words that the question does not already hold must
      (at least half of them) be in the passage; an answer that adds no word of its own is supported.
    """
    from tutor.agent.attribution import MIN_SHARE, best_passage, content_words

    passage = content_words(knowledge)
    new = content_words(answer) - content_words(question)
    return {"attribution": best_passage(answer, [passage]) == 1,
            "new_words": (len(new & passage) / len(new) >= MIN_SHARE) if new else True}


def halueval_agreement(args) -> int:
    """The support judges against HaluEval's labels: each right answer should be judged supported by
    its knowledge passage, each hallucinated answer unsupported."""
    from evals.common import EvalRun, agreement
    from evals.external import read_halueval

    data = read_halueval(args.dataset)[: args.limit]
    run = EvalRun("faithfulness", args, model="rules", dataset=str(args.dataset), fmt="halueval")

    def one(item):
        rows = []
        for label, answer in (("right", item.right_answer), ("hallucinated", item.hallucinated_answer)):
            rows.append({"id": f"{item.id}:{label}", "answer": answer, "human_supported": label == "right",
                         **supported_rules(answer, item.knowledge, item.question)})
        return rows

    run.score(data, one, desc="faithfulness judge vs HaluEval")
    human = [r["human_supported"] for r in run.items]
    detail = {rule: agreement([r[rule] for r in run.items], human) for rule in ("attribution", "new_words")}
    metrics = {f"{rule}_{k}": d[k] for rule, d in detail.items() for k in ("accuracy", "kappa")}
    metrics["detail"] = detail
    table = markdown_table(["support rule", "pairs", "accuracy", "kappa", "precision", "recall", "judge +"],
                           [[rule, d["n"], d["accuracy"], d["kappa"], d["precision"], d["recall"],
                             d["judge_positive_rate"]] for rule, d in detail.items()])
    return run.finish(metrics, table=table)


def main(argv: list[str] | None = None) -> int:
    from evals.common import EvalRun, apply_model_options, parser
    from evals.external import resolve

    p = parser("faithfulness", __doc__.split("\n\n")[0],
               dataset_help="faithfulness.jsonl-style cases, or HaluEval QA JSON (judge agreement).")
    p.add_argument("--style", choices=["exact", "plain"], default="exact", help="Prompt style (plain = baseline).")
    p.add_argument("--order", choices=["first", "last"], default="first", help="Where the best passage goes.")
    p.add_argument("--preset", dest="model", default=None, help="Same as --model (kept for older scripts).")
    p.add_argument("--home", default=None, help="Data dir (default: TUTOR_HOME).")
    p.add_argument("--calibrate", action="store_true", help="Only print the relevance-gate similarity spread.")
    args = p.parse_args(argv)
    if args.home:
        os.environ["TUTOR_HOME"] = args.home
    apply_model_options(args)
    fmt = resolve(args.dataset, args.format, "faithfulness", ("project", "halueval"))
    if fmt == "halueval":
        return halueval_agreement(args)
    from knowledge.corpus_default import ensure_default_corpus
    from tutor.config import get_settings
    from tutor.llm.load import load_llm

    get_settings.cache_clear()
    ensure_default_corpus()
    if args.calibrate:
        print(json.dumps(calibrate_gate(), indent=2))
        return 0
    cases = load_cases(Path(args.dataset)) if args.dataset else load_cases()
    run = EvalRun("faithfulness", args, model=get_settings().llm_preset, dataset=args.dataset, fmt=fmt)
    llm = load_llm()
    t0 = time.perf_counter()
    # One question at a time through run(), so the progress bar and Ctrl-C are EvalRun's.
    run.score(cases[: args.limit], lambda case: run_one(llm, case, args), desc="faithfulness")
    report = summarise(run.items, llm, args.style, args.order)
    report["wall_s"] = round(time.perf_counter() - t0, 1)
    metrics = {k: v for k, v in report.items() if k not in ("rows", "model", "style", "most_relevant")}
    table = markdown_table(
        ["model", "style", "best passage", "questions", "exact-keep", "given", "keep | given", "citations valid", "invalid [n]"],
        [[report["model"], report["style"], report["most_relevant"], report["questions"], report["exact_keep_rate"],
          report["given_rate"], report["keep_rate_when_given"], report["citation_validity"], report["invalid_markers"]]])
    return run.finish(metrics, extra={"style": args.style, "most_relevant": args.order}, table=table)


def run_one(llm: Any, case: FaithCase, args) -> dict:
    rows = run(llm, cases=[case], style=args.style, most_relevant=args.order, progress=False)["rows"]
    return rows[0]


def summarise(rows: list[dict], llm: Any, style: str, most_relevant: str) -> dict:
    """The suite's metrics over the scored rows (the rows themselves under "rows")."""
    n = len(rows) or 1
    given = [r for r in rows if r["given"]]
    return {
        "model": getattr(getattr(llm, "metadata", None), "model_name", type(llm).__name__),
        "style": style,
        "most_relevant": most_relevant,
        "questions": len(rows),
        "exact_keep_rate": sum(r["kept"] for r in rows) / n,
        "given_rate": len(given) / n,
        "keep_rate_when_given": (sum(r["kept"] for r in given) / len(given)) if given else None,
        "citation_validity": sum(r["citations_valid"] for r in rows) / n,
        "answers_with_citations": sum(r["cited"] > 0 for r in rows) / n,
        "invalid_markers": sum(r["invalid_markers"] for r in rows),
        "median_latency_s": statistics.median(r["latency_s"] for r in rows) if rows else None,
        "rows": rows,
    }


if __name__ == "__main__":
    from evals.report import run_cli

    run_cli(main)
