"""The speed suite: time to first token, decode tokens/s, retrieval latency and routing latency.

    tutor eval speed                      # 3 generations, 30 searches per mode, 100 routings
    tutor eval speed --limit 1 --parts llm

Medians over repeats on this machine, as it is loaded right now: a number to compare between two
runs on the same machine (``tutor eval compare``), not an absolute. The fuller benchmarks, with a
raw llama-cpp-python ceiling and cache reuse, are ``benchmarks/llm.py``, ``benchmarks/retrieval.py``
and ``benchmarks/agent.py``; this suite keeps to the tutor's public entry points so that it runs
from an installed ``tutor`` (where ``benchmarks/`` is not importable).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from evals.common import EvalRun, apply_model_options, parser

PARTS = ("llm", "retrieval", "routing")
PROMPT = "In two sentences, what does a learning-rate warm-up do, and why does it help large batches?"


def time_generation(llm: Any, prompt: str = PROMPT, max_tokens: int = 64) -> dict[str, float]:
    """One streamed chat: seconds to the first visible text, then decode rate over the rest."""
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    start = time.perf_counter()
    first = None
    text = ""
    for r in llm.stream_chat([ChatMessage(role=MessageRole.USER, content=prompt)], max_tokens=max_tokens,
                             temperature=0.0):
        if first is None and r.delta:
            first = time.perf_counter()
        text += r.delta or ""
    end = time.perf_counter()
    tokens = llm.count_tokens(text)
    decode = end - (first or end)
    return {"ttft_s": (first or end) - start, "tokens": tokens,
            "decode_tok_s": (tokens - 1) / decode if tokens > 1 and decode > 0 else None}


def _p(values: list[float], q: float) -> float | None:
    values = sorted(v for v in values if v is not None)
    return values[min(len(values) - 1, int(q * len(values)))] if values else None


def main(argv: list[str] | None = None) -> int:
    p = parser("speed", __doc__.splitlines()[0])
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    args = p.parse_args(argv)
    apply_model_options(args)
    from tutor.config import get_settings

    settings = get_settings()
    run = EvalRun("speed", args, model=settings.llm_preset, dataset=None)
    metrics: dict[str, Any] = {}
    jobs: list[tuple[str, Any]] = []
    if "llm" in args.parts:
        from tutor.llm.load import get_llm

        llm = get_llm()
        time_generation(llm, max_tokens=4)  # warm-up: load and first evaluation are not what we time
        jobs += [("llm", i) for i in range(args.limit or 3)]
    if "retrieval" in args.parts:
        from evals.retrieval import load_dataset
        from knowledge.corpus_default import ensure_default_corpus
        from knowledge.retrieve import Retriever

        ensure_default_corpus(settings=settings, show_progress=not args.no_progress)
        retriever = Retriever(settings=settings)
        questions = [c.question for c in load_dataset()][: args.limit or 30]
        retriever.search(questions[0], top_k=5, mode="hybrid")  # warm-up
        jobs += [(f"retrieval-{mode}", q) for mode in ("dense", "bm25", "hybrid") for q in questions]
    if "routing" in args.parts:
        from evals.tools import load_dataset as routing_set
        from tutor.agent.router import Router

        router = Router(settings)
        router.warm_up()
        router.route("warm up the encoder")
        jobs += [("routing", c.message) for c in routing_set()[: args.limit or 100]]

    def one(job: tuple[str, Any]) -> dict:
        kind, payload = job
        if kind == "llm":
            return {"part": "llm", **time_generation(llm)}
        t0 = time.perf_counter()
        if kind == "routing":
            router.route(payload)
        else:
            retriever.search(payload, top_k=5, mode=kind.split("-", 1)[1])
        return {"part": kind, "ms": 1000 * (time.perf_counter() - t0)}

    run.score(jobs, one, desc="speed")
    med = lambda xs: statistics.median(xs) if xs else None
    gens = [i for i in run.items if i["part"] == "llm"]
    if gens:
        metrics["ttft_s_p50"] = med([g["ttft_s"] for g in gens])
        metrics["decode_tok_s_p50"] = med([g["decode_tok_s"] for g in gens if g["decode_tok_s"] is not None])
    for part in ("retrieval-dense", "retrieval-bm25", "retrieval-hybrid", "routing"):
        ms = [i["ms"] for i in run.items if i["part"] == part]
        if ms:
            key = part.replace("-", "_")
            metrics[f"{key}_ms_p50"], metrics[f"{key}_ms_p95"] = med(ms), _p(ms, 0.95)
    return run.finish(metrics, extra={"n_threads": settings.n_threads})


if __name__ == "__main__":
    from evals.report import run_cli

    run_cli(main)
