"""Retrieval benchmark: ingest throughput, query latency, store latency at 100k chunks.

    python benchmarks/retrieval.py                          # shipped corpus + 100k synthetic, ~5 min on 2 cores
    python benchmarks/retrieval.py --json out.json
    python benchmarks/retrieval.py --packages torch.nn --synthetic 20000   # quicker
    python benchmarks/retrieval.py --max-chunks 800 --synthetic 0          # quick smoke run

What is measured, each beside a plain baseline taken in the same run:

* ingest chunks/s on the shipped corpus (roadmap + paper notes + API docs of --packages):
  the tutor's whole IngestionPipeline (repair → parse → onnx-int8 embed → Qdrant write)
  versus plain ``SentenceTransformer.encode`` in fp32 over the same chunk texts (embedding
  only, so the baseline is flattered). Target: ratio ≥ 2.5.
* dense hit@5 of the int8 vectors (as stored) versus the fp32 vectors on the eval questions
  (evals/datasets/retrieval.jsonl), both by exact cosine search over the same chunks.
  Target: int8 no more than 0.01 below fp32.
* query latency p50/p95, query embedding included: ``Retriever.search`` in hybrid and dense
  mode versus the plain fp32 ``encode`` of the query alone. Target: hybrid p50 ≤ 15 ms.
* store latency on N synthetic chunks (random unit vectors, embedded Qdrant): top-5 query
  with and without a feed filter. Server mode cannot be measured here (no Qdrant server
  binary on these machines); the same code runs against one via TUTOR_QDRANT_URL.

Everything runs in a temporary data dir; the user's knowledge base is not touched.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[index]


def load_corpus(packages: list[str]):
    from knowledge.corpus_default import docs_documents, paper_documents, roadmap_documents

    feeds = [("roadmap", None, roadmap_documents()), ("papers", None, paper_documents()[0])]
    for package in packages:
        feeds.append(("docs", f"docs:{package}", docs_documents(package)))
    return feeds


def bench_shipped(args, home: Path) -> dict:
    import numpy as np

    from knowledge.citation import Citation
    from knowledge.embed import TorchEncoder, resolve_model_path
    from knowledge.parse import TutorNodeParser
    from knowledge.pipeline import RepairText, ingest_documents
    from knowledge.retrieve import Retriever
    from knowledge.store import Store
    from llama_index.core.schema import MetadataMode
    from tutor.config import get_settings

    settings = get_settings()
    t0 = time.perf_counter()
    feeds = load_corpus(args.packages)
    harvest_s = time.perf_counter() - t0
    if args.max_chunks:
        # Keep whole documents, in order, until the chunk budget is used.
        parser = TutorNodeParser()
        budget, trimmed = args.max_chunks, []
        for feed, scope, docs in feeds:
            kept = []
            for doc in docs:
                if budget <= 0:
                    break
                kept.append(doc)
                budget -= len(parser(RepairText()([doc.model_copy()])))
            trimmed.append((feed, scope, kept))
        feeds = trimmed

    # Plain baseline: sentence-transformers fp32 over the exact chunk texts the pipeline embeds.
    parser = TutorNodeParser()
    nodes = [n for _, _, docs in feeds for n in parser(RepairText()([d.model_copy() for d in docs]))]
    texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
    plain = TorchEncoder(resolve_model_path(settings.embed_model))
    plain.encode(texts[:8])  # warm-up
    t0 = time.perf_counter()
    fp32 = plain.encode(texts, batch_size=settings.embed_batch_size)
    plain_s = time.perf_counter() - t0

    # The tutor: the whole pipeline into embedded Qdrant (the ONNX export is made before timing).
    from knowledge.embed import get_encoder

    get_encoder(settings).encode(["warm-up"])
    t0 = time.perf_counter()
    chunks = 0
    for feed, scope, docs in feeds:
        report = ingest_documents(docs, feed, scope=scope, show_progress=False, refresh_bm25=False)
        chunks += report.chunks
    from knowledge.retrieve import rebuild_bm25

    rebuild_bm25(settings)
    tutor_s = time.perf_counter() - t0

    # Quality: fp32 vs int8 (as stored) dense hit@5 on the eval questions, exact cosine search.
    from evals.retrieval import first_hit_rank, load_dataset

    cases = load_dataset()
    store = Store(settings)
    stored = {str(p.id): p.vector for p in store.scroll_all(with_vectors=True)}
    int8 = np.array([stored[n.node_id] for n in nodes], dtype=np.float32)
    cites = [
        Citation(text="", source=n.metadata["source"], section=n.metadata.get("section", ""), feed=n.metadata["feed"]) for n in nodes
    ]
    onnx = get_encoder(settings)
    questions = [c.question for c in cases]
    q32 = plain.encode(questions)
    q8 = onnx.encode(questions)
    hits = {}
    for name, matrix, queries in (("fp32", fp32, q32), ("onnx-int8", int8, q8)):
        ranks = []
        for case, q in zip(cases, queries):
            top = np.argsort(-(matrix @ q))[:5]
            ranks.append(first_hit_rank(case, [cites[i] for i in top]))
        hits[name] = sum(r is not None for r in ranks) / max(1, len(ranks))

    # Query latency, query embedding included.
    retriever = Retriever(settings, auto_build=False)
    retriever.search("warm up", top_k=5)
    lat = {"plain fp32 encode": [], "hybrid": [], "dense": [], "bm25": [], "hybrid, feed filter": []}
    # One loop per measurement: interleaving torch and onnxruntime calls makes each wait on the
    # other's spinning worker threads, which inflated both (112 ms for a plain encode).
    for _ in range(args.query_rounds):
        for q in questions:
            t = time.perf_counter()
            plain.encode([q])
            lat["plain fp32 encode"].append(time.perf_counter() - t)
    for mode in ("hybrid", "dense", "bm25"):
        for _ in range(args.query_rounds):
            for q in questions:
                t = time.perf_counter()
                retriever.search(q, top_k=5, mode=mode)
                lat[mode].append(time.perf_counter() - t)
    for case in cases:
        t = time.perf_counter()
        retriever.search(case.question, top_k=5, feed=case.feed or "papers")
        lat["hybrid, feed filter"].append(time.perf_counter() - t)
    return {
        "chunks": len(nodes),
        "chunks_ingested": chunks,
        "harvest_s": round(harvest_s, 1),
        "plain_fp32_chunks_per_s": round(len(texts) / plain_s, 1),
        "tutor_pipeline_chunks_per_s": round(chunks / tutor_s, 1),
        "ingest_speedup": round((chunks / tutor_s) / (len(texts) / plain_s), 2),
        "hit@5_fp32": round(hits["fp32"], 3),
        "hit@5_onnx_int8": round(hits["onnx-int8"], 3),
        "eval_questions": len(cases),
        "query_ms": {k: {"p50": round(pct(v, 50) * 1000, 2), "p95": round(pct(v, 95) * 1000, 2)} for k, v in lat.items()},
    }


def bench_synthetic(n: int, queries: int, home: Path) -> dict:
    """The tutor's Store over ``n`` random unit vectors in a collection of its own (embedded)."""
    import numpy as np

    from knowledge.store import Store, feed_filter
    from tutor.config import get_settings

    rng = np.random.default_rng(0)
    store = Store(get_settings().model_copy(update={"collection": "synthetic"}))
    store.ensure(384)
    feeds = ["roadmap", "papers", "docs", "user"]
    t0 = time.perf_counter()
    batch = 2000
    kept = []
    for start in range(0, n, batch):
        size = min(batch, n - start)
        vectors = rng.standard_normal((size, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        kept.append(vectors)
        store.client.upload_collection(
            store.collection,
            vectors=vectors,
            payload=[{"feed": feeds[(start + i) % 4], "source": f"synthetic:{start + i}"} for i in range(size)],
            ids=range(start, start + size),
        )
    load_s = time.perf_counter() - t0
    qs = rng.standard_normal((queries, 384)).astype(np.float32)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    out = {"points": n, "upload_s": round(load_s, 1)}

    def timed(fn, items) -> dict:
        times = []
        for item in items:
            t = time.perf_counter()
            fn(item)
            times.append(time.perf_counter() - t)
        return {"p50": round(pct(times, 50) * 1000, 2), "p95": round(pct(times, 95) * 1000, 2), "n": len(times)}

    out["top5"] = timed(lambda q: store.query(q, 5), qs)
    out["top5_feed_filter"] = timed(lambda q: store.query(q, 5, feed="docs"), qs)
    # Embedded Qdrant's own payload filter, which the store now avoids (a few queries: ~25 µs per point).
    out["top5_qdrant_filter"] = timed(
        lambda q: store.client.query_points(store.collection, query=q.tolist(), limit=5, query_filter=feed_filter("docs")),
        qs[: max(3, queries // 20)],
    )
    store.drop()
    # Plain baseline: the same exact search as one numpy matrix product.
    mat = np.concatenate(kept)
    out["plain_numpy_top5"] = timed(lambda q: np.argpartition(-(mat @ q), 5)[:5], qs)
    out["server_mode"] = "not measured: no Qdrant server binary can run on this machine"
    return out


def main(argv: list[str] | None = None) -> None:
    from tutor.config import get_settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", nargs="*", default=None, help="Docs packages (default: settings.docs_packages).")
    parser.add_argument("--max-chunks", type=int, default=0, help="Cap the shipped corpus at about this many chunks (0 = all).")
    parser.add_argument("--query-rounds", type=int, default=3, help="Passes over the eval questions for latency.")
    parser.add_argument("--synthetic", type=int, default=100_000, help="Synthetic chunks for the store test (0 = skip).")
    parser.add_argument("--synthetic-queries", type=int, default=100)
    parser.add_argument("--json", dest="json_path", help="Also write the results here.")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tutor-bench-") as tmp:
        home = Path(tmp)
        os.environ["TUTOR_HOME"] = str(home)
        get_settings.cache_clear()
        args.packages = args.packages if args.packages is not None else list(get_settings().docs_packages)
        results = {"cpu_count": os.cpu_count(), "embed_backend": get_settings().embed_backend, "packages": args.packages}
        results["shipped"] = bench_shipped(args, home)
        if args.synthetic:
            results["synthetic"] = bench_synthetic(args.synthetic, args.synthetic_queries, home)
        from knowledge.store import close_clients

        close_clients()

    s = results["shipped"]
    rows = [
        ("ingest chunks/s (tutor pipeline vs plain ST fp32 encode)", s["tutor_pipeline_chunks_per_s"], s["plain_fp32_chunks_per_s"], f"{s['ingest_speedup']}x (target ≥ 2.5x)"),
        ("dense hit@5 on eval questions (int8 vs fp32)", s["hit@5_onnx_int8"], s["hit@5_fp32"], f"{s['hit@5_onnx_int8'] - s['hit@5_fp32']:+.3f} (target ≥ -0.01)"),
    ]
    base = s["query_ms"]["plain fp32 encode"]
    for mode in ("hybrid", "dense", "bm25", "hybrid, feed filter"):
        q = s["query_ms"][mode]
        rows.append((f"query ms p50/p95, {mode} search (embedding incl.)", f"{q['p50']}/{q['p95']}", f"{base['p50']}/{base['p95']}", "plain = fp32 query encode only"))
    if "synthetic" in results:
        y = results["synthetic"]
        for name in ("top5", "top5_feed_filter", "top5_qdrant_filter"):
            rows.append((f"store ms p50/p95, {y['points']} chunks, {name} (embedded)", f"{y[name]['p50']}/{y[name]['p95']}", f"{y['plain_numpy_top5']['p50']}/{y['plain_numpy_top5']['p95']}", "plain = numpy exact top-5"))
    width = max(len(r[0]) for r in rows)
    print(f"\nshipped corpus: {s['chunks']} chunks, {s['eval_questions']} eval questions, {results['cpu_count']} CPUs; server mode not measurable here")
    print(f"{'metric':<{width}}  {'tutor':>14}  {'plain':>14}  note")
    for name, ours, plain, note in rows:
        print(f"{name:<{width}}  {str(ours):>14}  {str(plain):>14}  {note}")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
