"""Retrieval quality: hit@1, hit@k and MRR of dense, BM25 and hybrid search.

The questions live in ``evals/datasets/retrieval.jsonl`` (hand-written, one per line). A
question is answered when one of the top-k citations comes from the expected source (and,
when the row names one, from a section whose heading path contains the expected text).

    python -m evals retrieval                      # all modes, k=5, the current TUTOR_HOME
    python -m evals retrieval --home /tmp/ev --backend torch --json out.json
    python -m evals retrieval --thresholds evals/thresholds.toml   # exit 1 below a minimum (the default file)

The default corpus is built (with a progress bar) when the data dir does not have it yet.
Only public APIs are used: ``knowledge.retrieve.Retriever`` and
``knowledge.corpus_default.ensure_default_corpus``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from evals.report import markdown_table
from tutor.errors import TutorError

DATASET_PATH = Path(__file__).parent / "datasets" / "retrieval.jsonl"
MODES: tuple[str, ...] = ("dense", "bm25", "hybrid")
EVAL_FEEDS: tuple[str, ...] = ("roadmap", "papers", "docs")


class RetrievalCase(BaseModel):
    """One hand-written question and what a correct retrieval must contain."""

    id: str = Field(description="Stable id, e.g. 'roadmap-07'.")
    question: str = Field(min_length=3, description="The question as a learner would type it.")
    feed: str = Field(description="The feed the answer is expected from: roadmap | papers | docs.")
    expected_source: list[str] = Field(
        description="Source id(s) that count as a hit; a list only when the question has two right answers."
    )
    expected_section_contains: list[str] | None = Field(
        None, description="Case-insensitive substring(s) of the heading path; any one matching is enough."
    )
    notes: str | None = Field(None, description="Why the question is phrased this way, or what makes it hard.")

    @field_validator("expected_source", "expected_section_contains", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("feed")
    @classmethod
    def _known_feed(cls, value: str) -> str:
        if value not in EVAL_FEEDS:
            raise ValueError(f"feed must be one of {', '.join(EVAL_FEEDS)}")
        return value

    def matches(self, source: str, section: str | None) -> bool:
        """True when a citation with this source id and heading path answers the question."""
        if source not in self.expected_source:
            return False
        if not self.expected_section_contains:
            return True
        section = (section or "").casefold()
        return any(part.casefold() in section for part in self.expected_section_contains)


def load_dataset(path: str | Path | None = None) -> list[RetrievalCase]:
    """Read and validate the JSONL dataset; a bad line raises a TutorError naming it."""
    path = Path(path) if path is not None else DATASET_PATH
    if not path.is_file():
        raise TutorError(f"Retrieval dataset {path} does not exist; pass an existing .jsonl file.")
    cases: list[RetrievalCase] = []
    seen: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = RetrievalCase.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            first = str(exc).splitlines()[0] if isinstance(exc, json.JSONDecodeError) else _first_error(exc)
            raise TutorError(f"{path.name} line {lineno} is not a valid question row: {first}.") from None
        if case.id in seen:
            raise TutorError(f"{path.name} line {lineno} repeats the id {case.id!r}; give every row its own id.")
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise TutorError(f"Retrieval dataset {path} has no questions.")
    return cases


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "row"
    return f"{where}: {err.get('msg', 'invalid')}"


def first_hit_rank(case: RetrievalCase, citations: Iterable[Any]) -> int | None:
    """1-based rank of the first citation that answers ``case``; None when none does."""
    for rank, cit in enumerate(citations, start=1):
        if case.matches(cit.source, getattr(cit, "section", "")):
            return rank
    return None


def _member_rank(case: RetrievalCase, citations: Sequence[Any]) -> int | None:
    """Rank of the first citation of a *member* of an expected API object (``docs:X.method``).

    Not counted as a hit (the dataset names the object the learner asked about), but worth
    knowing: the docs harvester gives long method docstrings their own Documents, so a
    "miss" that returned ``AutoTokenizer.from_pretrained`` for an AutoTokenizer question is
    a near hit, unlike one that returned an unrelated class.
    """
    for rank, cit in enumerate(citations, start=1):
        if any(cit.source.startswith(expected + ".") for expected in case.expected_source):
            return rank
    return None


def _summarise(ranks: Sequence[int | None], k: int) -> dict[str, float]:
    n = len(ranks)
    if n == 0:
        return {"n": 0, "hit@1": 0.0, f"hit@{k}": 0.0, "mrr": 0.0, "ndcg": 0.0}
    return {
        "n": n,
        "hit@1": sum(r == 1 for r in ranks) / n,
        f"hit@{k}": sum(r is not None and r <= k for r in ranks) / n,
        # MRR truncated at k: a passage below the cut-off is as useless to the LLM as none.
        "mrr": sum(1.0 / r for r in ranks if r is not None and r <= k) / n,
        # One relevant source per question, so nDCG@k is the gain of the first hit's rank.
        "ndcg": sum(1.0 / math.log2(r + 1) for r in ranks if r is not None and r <= k) / n,
    }


def run(
    modes: Sequence[str] = MODES,
    k: int = 5,
    dataset: str | Path | Sequence[RetrievalCase] | None = None,
    feed_filter: bool = False,
    retriever: Any | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Evaluate each retrieval mode on the dataset and return the scores.

    ``feed_filter=True`` restricts every query to the row's expected feed (how the agent
    searches when it knows where to look); False searches all feeds at once (the harder,
    default case). The result holds, per mode, ``overall`` and ``per_feed`` scores
    (n, hit@1, hit@k, mrr), query latency, and the list of misses with what came back instead.
    """
    if k < 1:
        raise TutorError("k must be at least 1.")
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise TutorError(f"Unknown retrieval mode {', '.join(unknown) or '(none)'}; choose from {', '.join(MODES)}.")
    cases = list(dataset) if isinstance(dataset, Sequence) and not isinstance(dataset, str) else load_dataset(dataset)

    from tutor.config import get_settings

    settings = get_settings()
    if retriever is None:
        from knowledge.corpus_default import ensure_default_corpus
        from knowledge.retrieve import Retriever

        # Built here rather than lazily by the retriever so that the build shows its progress
        # bar (or stays quiet) as the caller asked.
        ensure_default_corpus(settings=settings, show_progress=progress)
        retriever = Retriever(settings=settings)

    report: dict[str, Any] = {
        "k": k,
        "feed_filter": feed_filter,
        "dataset": str(dataset) if isinstance(dataset, (str, Path)) else (None if dataset is None else "in-memory"),
        "n_questions": len(cases),
        "embed_backend": settings.embed_backend,
        "embed_model": settings.embed_model,
        "home": str(settings.home),
        "modes": {},
    }
    bar = _bar(len(cases) * len(modes), progress)
    report["interrupted"] = False
    for mode in modes:
        if report["interrupted"]:
            break
        ranks: dict[str, int | None] = {}
        latencies: list[float] = []
        misses: list[dict[str, Any]] = []
        for case in cases:
            try:
                # Ctrl-C ends the run here; the questions already searched are summarised below.
                _search_one(retriever, case, k, feed_filter, mode, ranks, latencies, misses)
            except KeyboardInterrupt:
                report["interrupted"] = True
                break
            bar.update(1)
        if not ranks:
            break
        by_feed: dict[str, list[int | None]] = defaultdict(list)
        for case in cases:
            if case.id in ranks:
                by_feed[case.feed].append(ranks[case.id])
        per_feed = {feed: _summarise(by_feed[feed], k) for feed in (*EVAL_FEEDS, "user") if feed in by_feed}
        report["modes"][mode] = {
            "overall": _summarise(list(ranks.values()), k),
            # The feeds have different numbers of questions; the macro average weighs them equally.
            "macro": {
                key: statistics.fmean(s[key] for s in per_feed.values()) for key in ("hit@1", f"hit@{k}", "mrr", "ndcg")
            },
            "per_feed": per_feed,
            "latency_ms_p50": statistics.median(latencies),
            "ranks": ranks,
            # Only true misses (nothing in the top k); rank>1 rows are kept separately for diagnosis.
            "misses": [m for m in misses if m["rank"] is None],
            "misses_with_member_hit": sum(1 for m in misses if m.get("member_rank") is not None),
            "below_top1": [m for m in misses if m["rank"] is not None],
        }
    bar.close()
    return report


def _search_one(retriever, case, k, feed_filter, mode, ranks, latencies, misses) -> None:
    """Search one question in one mode; record its rank, latency and, below rank 1, what came back."""
    start = time.perf_counter()
    hits = retriever.search(case.question, top_k=k, feed=case.feed if feed_filter else None, mode=mode)
    latencies.append((time.perf_counter() - start) * 1000.0)
    rank = first_hit_rank(case, hits[:k])
    ranks[case.id] = rank
    if rank is None or rank > 1:
        entry = {
            "id": case.id,
            "feed": case.feed,
            "question": case.question,
            "expected": case.expected_source,
            "expected_section": case.expected_section_contains,
            "rank": rank,
            "got": [f"{c.source} | {c.section}" if c.section else c.source for c in hits[:k]],
        }
        if rank is None:
            entry["member_rank"] = _member_rank(case, hits[:k])
        misses.append(entry)


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc="retrieval eval", unit="q", file=sys.stderr, leave=False)


def format_report(report: dict[str, Any]) -> str:
    """The scores as Markdown: one overall table, one per-feed table, then the misses."""
    k = report["k"]
    hitk = f"hit@{k}"
    modes = list(report["modes"])
    out = [
        f"Retrieval eval: {report['n_questions']} questions, k={k}, "
        f"feed filter {'on' if report['feed_filter'] else 'off'}, "
        f"embeddings {report['embed_model']} ({report['embed_backend']})",
        "",
        markdown_table(
            ["mode", "hit@1", hitk, "MRR", f"macro {hitk}", "p50 ms"],
            [
                [
                    m,
                    s["overall"]["hit@1"],
                    s["overall"][hitk],
                    s["overall"]["mrr"],
                    s["macro"][hitk],
                    round(s["latency_ms_p50"], 1),
                ]
                for m, s in report["modes"].items()
            ],
        ),
        "",
    ]
    feeds = [f for f in (*EVAL_FEEDS, "user") if any(f in s["per_feed"] for s in report["modes"].values())]
    rows = []
    for feed in feeds:
        for m in modes:
            s = report["modes"][m]["per_feed"].get(feed)
            if s:
                rows.append([feed, m, s["n"], s["hit@1"], s[hitk], s["mrr"]])
    out += [markdown_table(["feed", "mode", "n", "hit@1", hitk, "MRR"], rows), ""]
    for m, s in report["modes"].items():
        if not s["misses"]:
            continue
        out.append(f"Misses ({m}, nothing right in the top {k}):")
        for miss in s["misses"]:
            got = miss["got"][0] if miss["got"] else "(nothing)"
            near = f" (a member of it at rank {miss['member_rank']})" if miss.get("member_rank") else ""
            out.append(
                f"- {miss['id']}: {miss['question']!r} expected {', '.join(miss['expected'])}{near}; top-1 was {got}"
            )
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _parser() -> argparse.ArgumentParser:
    from evals.common import parser

    p = parser("retrieval", "Score dense, BM25 and hybrid retrieval on the hand-written question set, "
               "or on MLQuestions-style passages ingested into a scratch data dir.",
               dataset_help="JSONL question file (default: the shipped one), or an MLQuestions-style TSV.")
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES, help="Retrieval modes to score.")
    p.add_argument("-k", "--top-k", dest="k", type=int, default=5, help="Cut-off for hit@k, MRR and nDCG (default 5).")
    p.add_argument(
        "--feed-filter", action="store_true", help="Search only the row's expected feed instead of all feeds."
    )
    p.add_argument("--home", type=Path, default=None, help="Data dir to use (sets TUTOR_HOME); built if empty.")
    p.add_argument(
        "--backend",
        choices=("onnx-int8", "torch"),
        default=None,
        help="Embedding backend (sets TUTOR_EMBED_BACKEND). Use a separate --home per backend.",
    )
    return p


def mlquestions_cases(path: str | Path, limit: int | None, home: Path, progress: bool) -> tuple[list, Any]:
    """Ingest the set's distinct passages as user files into the scratch data dir ``home`` (one
    file each, through the knowledge package's public ingest API), and return one case per
    question whose expected source is its passage's file, with a retriever on that data dir."""
    from evals.external import read_mlquestions
    from knowledge.pipeline import ingest_paths
    from knowledge.retrieve import Retriever
    from tutor.config import Settings, get_settings

    rows = read_mlquestions(path)[:limit]
    base = get_settings()
    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(**{**base.model_dump(), "home": home})
    # Reuse the real data dir's int8 export of the embedding model instead of converting it again
    # (about a minute of CPU); the export is only read.
    export = base.state_dir / "embed"
    if export.is_dir() and not (settings.state_dir / "embed").exists():
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        (settings.state_dir / "embed").symlink_to(export.resolve(), target_is_directory=True)
    folder = home / "mlquestions-passages"
    folder.mkdir(exist_ok=True)
    files: dict[str, Path] = {}
    for row in rows:
        if row.passage not in files:
            files[row.passage] = folder / f"passage-{len(files):05d}.txt"
            files[row.passage].write_text(row.passage + "\n", encoding="utf-8")
    ingest_paths([folder], settings=settings, show_progress=progress)
    cases = [RetrievalCase.model_construct(id=row.id, question=row.question, feed="user",
                                           expected_source=[f"user:{files[row.passage].resolve()}"],
                                           expected_section_contains=None, notes=None) for row in rows]
    # The scratch dir holds only these passages: the retriever must not build the default corpus
    # into it (older knowledge versions did so on first search unless told not to).
    import inspect

    quiet = {"auto_build": False} if "auto_build" in inspect.signature(Retriever).parameters else {}
    return cases, Retriever(settings=settings, **quiet)


def gate_metrics(report: dict[str, Any]) -> dict[str, float]:
    """The report's scores under the names thresholds.toml uses: ``<mode>_hit_at_1``,
    ``<mode>_hit_at_<k>``, ``<mode>_mrr``, ``<mode>_macro_hit_at_<k>``."""
    out: dict[str, float] = {}
    for mode, scores in report["modes"].items():
        for key, value in scores["overall"].items():
            if key != "n":
                out[f"{mode}_{key.replace('@', '_at_')}"] = value
        for key, value in scores["macro"].items():
            out[f"{mode}_macro_{key.replace('@', '_at_')}"] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: ``python -m evals retrieval [options]``; Markdown table, JSON + Markdown report."""
    import tempfile

    from evals.common import EvalRun, apply_model_options
    from evals.external import resolve

    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.k < 1:
        raise TutorError("--top-k must be at least 1.")
    apply_model_options(args)
    fmt = resolve(args.dataset, args.format, "retrieval", ("project", "mlquestions"))
    if args.home is not None or args.backend is not None:
        # The knowledge layer reads the process-wide settings, so the overrides go through the
        # same TUTOR_* variables a user would set, and the cached settings are dropped.
        from tutor.config import get_settings

        if args.home is not None:
            os.environ["TUTOR_HOME"] = str(args.home.expanduser().resolve())
        if args.backend is not None:
            os.environ["TUTOR_EMBED_BACKEND"] = args.backend
        get_settings.cache_clear()
    from tutor.config import get_settings

    settings = get_settings()
    ev = EvalRun("retrieval", args, model=settings.embed_model, dataset=args.dataset, fmt=fmt)
    ev.adapter = None  # retrieval has no LLM: an adapter in the environment is not what was scored
    scratch = None
    if fmt == "mlquestions":
        scratch = tempfile.TemporaryDirectory(prefix="tutor-eval-mlq-")
        cases, retriever = mlquestions_cases(args.dataset, args.limit, Path(scratch.name), not args.no_progress)
        args.feed_filter = True  # search the user feed only: the passages, nothing else
    else:
        cases, retriever = load_dataset(args.dataset)[: args.limit], None
    try:
        report = ev.guard(lambda: run(modes=tuple(args.modes), k=args.k, dataset=cases,
                                     feed_filter=args.feed_filter, retriever=retriever,
                                     progress=not args.no_progress))
    finally:
        if scratch is not None:
            scratch.cleanup()
    if report is None:
        raise TutorError("cancelled before any question was searched.")
    ev.partial = ev.partial or report["interrupted"]
    report["dataset"] = args.dataset
    for case in cases:
        ranks = {m: s["ranks"].get(case.id) for m, s in report["modes"].items() if case.id in s["ranks"]}
        if ranks:
            ev.add({"id": case.id, "question": case.question, "feed": case.feed, "ranks": ranks})
    metrics = gate_metrics(report)
    metrics.update({f"{m}_latency_ms_p50": s["latency_ms_p50"] for m, s in report["modes"].items()})
    extra = dict(report)  # k, feed filter, embedding model, and per mode: per-feed scores, ranks, misses
    # A --limit run is reported, not gated: the minimums are for the whole set (other partial runs,
    # e.g. fewer modes, pass --no-gate). The MLQuestions set has its own table ([retrieval-mlquestions]).
    if args.limit is not None:
        ev.thresholds = None
    return ev.finish(metrics, extra=extra, table=format_report(report).rstrip())


if __name__ == "__main__":
    from evals.report import run_cli

    run_cli(main)
