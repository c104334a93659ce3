"""Store benchmark: Qdrant Edge beside qdrant-client's local mode, through the tutor's ``Store``.

    python benchmarks/store.py                               # 100k chunks on both engines + shipped corpus
    python benchmarks/store.py --points 20000 --no-shipped   # quicker
    python benchmarks/store.py --json out.json

Each engine runs in its own child process (clean memory numbers), in a temporary data dir:

* upload: N chunks of random unit 384-d vectors (MiniLM's width) with a realistic payload
  (feed, source, 800 characters of text), written through ``Store.upsert`` in batches of 2000,
  then flushed. Rate in chunks/s.
* open: a fresh process opens the store the way the tutor does at start-up; seconds.
* query latency p50/p95 through ``Store.query``: top-5 (ids and scores, what the retriever
  asks for), top-5 with payloads, top-5 filtered to a common feed (70% of chunks) and to a
  rare one (1%).
* resident memory: RSS growth of that fresh process from before opening to after the queries.
* plain baseline in the same run: numpy exact top-5 (``argpartition`` of one matrix product)
  over the same vectors.

``--shipped`` (default on) also builds the shipped corpus once (Edge) and copies its points
into local mode, then times ``Retriever.search`` (query embedding included) on the eval
questions for each engine, and compares keyword search: today's bm25s index + RRF in Python
against Edge's own BM25 text index fused with the dense prefetch inside the engine
(``Fusion.Rrf``), on quality (hit@5, all questions and the held-out split) and latency.
Random vectors are fine for speed; the shipped part uses the real embeddings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DIM = 384
BATCH = 2000
FEEDS = ["docs"] * 70 + ["papers"] * 20 + ["user"] * 9 + ["roadmap"]  # 1% roadmap: the rare feed
TEXT = ("Backpropagation applies the chain rule layer by layer to get every weight's gradient. " * 10)[:800]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


def latency_ms(times: list[float]) -> dict:
    """p50 and p95 of ``times`` (seconds), in milliseconds."""
    return {"p50": round(pct(times, 50) * 1000, 2), "p95": round(pct(times, 95) * 1000, 2)}


def timed_answers(fn, items, keep: bool = True) -> tuple[list, list[float]]:
    """What ``fn`` returns for each item (only with ``keep``), and the seconds each call took."""
    answers, times = [], []
    for item in items:
        t = time.perf_counter()
        answer = fn(item)
        times.append(time.perf_counter() - t)
        if keep:
            answers.append(answer)
    return answers, times


def timed(fn, items) -> dict:
    # The results are dropped: kept, they would count in the resident memory read after the queries.
    _, times = timed_answers(fn, items, keep=False)
    return {**latency_ms(times), "n": len(times)}


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def vectors(start: int, size: int):
    import numpy as np

    rng = np.random.default_rng(start)  # one seed per batch: any process regenerates the same data
    v = rng.standard_normal((size, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def queries(n: int):
    import numpy as np

    q = np.random.default_rng(10**9).standard_normal((n, DIM)).astype(np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def chunk_id(i: int) -> str:
    import uuid

    return str(uuid.UUID(int=i + 1))


# --------------------------------------------------------------------------- child: one engine
def upload(store, n: int) -> None:
    """The ``n`` synthetic chunks, written through ``Store.upsert`` in batches of ``BATCH``."""
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        payloads = [{"feed": FEEDS[(start + i) % 100], "source": f"synthetic:{start + i}", "text": TEXT} for i in range(size)]
        store.upsert([chunk_id(start + i) for i in range(size)], vectors(start, size), payloads)


def child_build(n: int) -> dict:
    from knowledge.store import Store, close_clients

    store = Store()
    store.ensure(DIM)
    t0 = time.perf_counter()
    upload(store, n)
    if store.edge:
        store.client.flush()
    seconds = time.perf_counter() - t0
    close_clients()
    return {"upload_s": round(seconds, 2), "upload_chunks_per_s": round(n / seconds, 1)}


def child_memory(n: int, n_queries: int, n_slow: int) -> dict:
    """Local mode at full size, query side only: qdrant-client's in-memory store.

    Its upload to disk runs at ~40-250 chunks/s here (up to 40 min for 100k), so the on-disk
    run above is smaller; the in-memory client searches with the very same code (numpy over
    all vectors, payload filters in Python), so its query latency and memory stand for local
    mode at ``n`` chunks.
    """
    from qdrant_client import QdrantClient

    import knowledge.store as ks

    base = rss_mib()
    store = ks.Store(client=QdrantClient(location=":memory:"))
    store.ensure(DIM)
    t0 = time.perf_counter()
    upload(store, n)
    out = {"engine": "local (in memory)", "points": store.count(), "upload_in_memory_s": round(time.perf_counter() - t0, 2)}
    few = queries(n_queries)[:n_slow]
    out["top5"] = timed(lambda q: store.query(q, 5, with_payload=False), few)
    out["top5_feed_common"] = timed(lambda q: store.query(q, 5, feed="docs", with_payload=False), few)
    out["top5_feed_rare"] = timed(lambda q: store.query(q, 5, feed="roadmap", with_payload=False), few[:3])
    out["rss_mib"] = round(rss_mib() - base, 1)
    return out


def child_query(n_queries: int, n_slow: int) -> dict:
    import numpy as np  # noqa: F401 (imported before the baseline RSS is read)

    import knowledge.store as ks

    base = rss_mib()
    t0 = time.perf_counter()
    store = ks.Store()
    count = store.count()  # Edge loads its shard here; local mode loaded everything in the constructor
    open_s = time.perf_counter() - t0
    qs = queries(n_queries)
    # Local mode needs ~0.1-3 s per query at 100k: fewer queries there (p50 needs no more).
    few = qs[:n_slow] if store.engine == "local" else qs
    out = {"engine": store.engine, "points": count, "open_s": round(open_s, 2)}
    out["top5"] = timed(lambda q: store.query(q, 5, with_payload=False), few)
    out["top5_payload"] = timed(lambda q: store.query(q, 5), few)
    out["top5_feed_common"] = timed(lambda q: store.query(q, 5, feed="docs", with_payload=False), few)
    out["top5_feed_rare"] = timed(lambda q: store.query(q, 5, feed="roadmap", with_payload=False), few[: max(3, len(few) // 5)])
    if store.edge:
        # What the old wide-ranking workaround would cost on Edge: an unfiltered top-20 to filter in Python.
        out["top20_unfiltered"] = timed(lambda q: store.query(q, 20, with_payload=True), few)
    out["rss_mib"] = round(rss_mib() - base, 1)
    ks.close_clients()
    return out


# --------------------------------------------------------------------------- parent
def run_child(engine: str, home: Path, args: list[str]) -> dict:
    env = {**os.environ, "TUTOR_HOME": str(home), "TUTOR_STORE_BACKEND": engine, "PYTHONPATH": str(ROOT)}
    env.pop("TUTOR_QDRANT_URL", None)
    out = subprocess.run([sys.executable, __file__, "--child", *args], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{engine} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_synthetic(engine: str, points: int, n_queries: int, n_slow: int) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"tutor-store-{engine}-") as tmp:
        home = Path(tmp)
        built = run_child(engine, home, ["build", str(points)])
        queried = run_child(engine, home, ["query", str(n_queries), str(n_slow)])
        disk = sum(p.stat().st_size for p in home.rglob("*") if p.is_file())
    return {**built, **queried, "disk_mib": round(disk / 2**20, 1)}


def bench_numpy(points: int, n_queries: int) -> dict:
    import numpy as np
    from threadpoolctl import threadpool_limits

    mat = np.concatenate([vectors(s, min(BATCH, points - s)) for s in range(0, points, BATCH)])
    out = {"top5": timed(lambda q: np.argpartition(-(mat @ q), 5)[:5], queries(n_queries)), "matrix_mib": round(mat.nbytes / 2**20, 1)}
    # On a loaded machine OpenBLAS's threads spin-wait for each other; one thread is the steadier baseline.
    with threadpool_limits(1):
        out["top5_one_thread"] = timed(lambda q: np.argpartition(-(mat @ q), 5)[:5], queries(n_queries))
    return out


# --------------------------------------------------------------------------- shipped corpus
def _split_of_cases() -> dict[str, str]:
    """case id → "tune" | "heldout", from the ``split`` field of the retrieval questions."""
    rows = (json.loads(line) for line in (ROOT / "evals" / "datasets" / "retrieval.jsonl").read_text().splitlines() if line.strip())
    return {row["id"]: row.get("split", "tune") for row in rows}


def _hit5(cases, answers) -> dict:
    from evals.retrieval import first_hit_rank

    split = _split_of_cases()
    out = {}
    for name in ("all", "tune", "heldout"):
        chosen = [(c, a) for c, a in zip(cases, answers) if name == "all" or split.get(c.id) == name]
        ranks = [first_hit_rank(c, a) for c, a in chosen]
        out[name] = {"n": len(chosen), "hit@5": round(sum(r is not None and r <= 5 for r in ranks) / max(1, len(chosen)), 3)}
    return out


class _Hit:
    """Citation-shaped result for first_hit_rank (source and section)."""

    def __init__(self, payload: dict):
        self.source = payload.get("source", "")
        self.section = payload.get("section") or ""


def _edge_bm25_shard(store, folder: Path):
    """A bench-only Edge shard: the tutor's points plus a BM25-scored text index on title+section+text."""
    import qdrant_edge as qe

    try:
        from knowledge.bm25 import record
    except ImportError:  # before the keyword index moved out of retrieve.py
        from knowledge.retrieve import _record as record

    shard = qe.EdgeShard.create(str(folder), qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=store.dim(), distance=qe.Distance.Dot)))
    params = qe.TextIndexParams(
        tokenizer=qe.TokenizerType.Word, lowercase=True, stopwords=qe.Language.English,
        stemmer=qe.SnowballParams(qe.SnowballLanguage.English), scoring=True,
    )
    shard.update(qe.UpdateOperation.create_field_index("bm25", params))
    shard.update(qe.UpdateOperation.create_field_index("feed", qe.PayloadSchemaType.Keyword))
    for points, _ in store.scroll_pages(with_vectors=True, batch=512):
        batch = []
        for p in points:
            rec = record(p.id, p.payload or {})
            text = f"{rec.get('title', '')}\n{rec.get('section', '')}\n{rec.get('text', '')}"
            batch.append(qe.Point(qe_id(p.id), list(p.vector), {**(p.payload or {}), "bm25": text}))
        shard.update(qe.UpdateOperation.upsert_points(batch))
    return shard


def qe_id(value):
    import uuid

    return uuid.UUID(str(value))


def bench_shipped(local_copy: int = 0) -> dict:
    """Shipped corpus: Retriever latency on Edge vs local mode, and Edge's BM25 + fusion vs bm25s + RRF."""
    from evals.retrieval import load_dataset
    from knowledge import retrieve
    from knowledge.corpus_default import build_default_corpus
    from knowledge.retrieve import RRF_K, Retriever

    dense_weight = float(getattr(retrieve, "DENSE_WEIGHT", 1.0))  # the Retriever's own fusion weights
    from knowledge.store import Store, close_clients, copy_batches
    from tutor.config import Settings, get_settings

    default_embed = Settings().state_dir / "embed"
    rows, out = [], {}
    with tempfile.TemporaryDirectory(prefix="tutor-store-shipped-") as tmp:
        os.environ["TUTOR_HOME"] = tmp
        os.environ["TUTOR_STORE_BACKEND"] = "edge"
        get_settings.cache_clear()
        settings = get_settings()
        if default_embed.exists():  # reuse the int8 export the user already has (made once, slow)
            settings.state_dir.mkdir(parents=True, exist_ok=True)
            os.symlink(default_embed, settings.state_dir / "embed")
        print("shipped corpus: building (Edge) ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        build_default_corpus(show_progress=False)
        out["build_s"] = round(time.perf_counter() - t0, 1)
        edge_store = Store(settings)
        out["chunks"] = edge_store.count()
        cases = load_dataset()
        questions = [c.question for c in cases]

        def run(search):
            """Latency and hit@5 of ``search`` over the eval questions, after one warm-up call."""
            search(questions[0])  # warm: models, BM25 index
            answers, times = timed_answers(search, questions)
            return {**latency_ms(times), **_hit5(cases, answers)}

        edge_retriever = Retriever(settings)
        for mode in ("hybrid", "dense", "bm25"):
            out[f"edge_{mode}"] = run(lambda q, mode=mode: edge_retriever.search(q, top_k=5, mode=mode))

        # Today's engine in the same run: the same points copied into local mode (no re-embedding).
        local_settings = settings.model_copy(update={"store_backend": "local"})
        local_store = Store(local_settings)
        local_store.ensure(edge_store.dim())
        copied = 0
        print("shipped corpus: copying into local mode ...", file=sys.stderr, flush=True)
        for ids, vectors, payloads, _ in copy_batches(edge_store, batch=256):
            if local_copy and copied >= local_copy:
                break
            local_store.upsert(ids, vectors, payloads)
            copied += len(ids)
        out["local_chunks"] = local_store.count()
        if out["local_chunks"] == out["chunks"]:
            local_retriever = Retriever(local_settings)
            for mode in ("hybrid", "dense"):
                out[f"local_{mode}"] = run(lambda q, mode=mode: local_retriever.search(q, top_k=5, mode=mode))

        # Keyword side inside the engine: Edge's BM25 text index, fused with the dense prefetch.
        import qdrant_edge as qe

        print("shipped corpus: Edge BM25 index ...", file=sys.stderr, flush=True)
        shard = _edge_bm25_shard(edge_store, Path(tmp) / "edge-bm25")
        encoder = edge_retriever._encoder()

        def edge_fused(q):
            vec = encoder.encode([q])[0].tolist()
            request = qe.QueryRequest(
                limit=5, with_payload=True,
                prefetches=[qe.Prefetch(limit=40, query=qe.Query.Nearest(vec)), qe.Prefetch(limit=40, query=qe.TextQuery("bm25", q))],
                query=qe.Fusion.Rrf(k=RRF_K, weights=[dense_weight, 1.0]),
            )
            return [_Hit(p.payload) for p in shard.query(request)]

        def edge_text(q):
            return [_Hit(p.payload) for p in shard.query(qe.QueryRequest(limit=5, with_payload=True, query=qe.TextQuery("bm25", q)))]

        for name, fn in (("edge_engine_bm25", edge_text), ("edge_engine_fusion", edge_fused)):
            out[name] = run(fn)
        shard.close()
        close_clients()

    def row(label, key, note=""):
        if key in out:
            r = out[key]
            hits = f"{r['all']['hit@5']} / {r['heldout']['hit@5']}"
            rows.append((f"shipped: {label} ms p50/p95", f"{r['p50']}/{r['p95']}", hits, note or "hit@5 all / held-out"))

    row("Edge, Retriever hybrid (bm25s + RRF, embedding incl.)", "edge_hybrid", "target p50 ≤ 12 ms; hit@5 all / held-out")
    row("local mode, Retriever hybrid", "local_hybrid")
    row("Edge, Retriever dense", "edge_dense")
    row("local mode, Retriever dense", "local_dense")
    row("Edge, Retriever bm25 (bm25s)", "edge_bm25")
    row("Edge engine BM25 text index", "edge_engine_bm25")
    row(f"Edge engine dense + BM25, Fusion.Rrf(k={RRF_K}, weights=[{dense_weight}, 1])", "edge_engine_fusion")
    out["rows"] = rows
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=100_000, help="Synthetic chunks per engine (0 = skip).")
    parser.add_argument("--local-points", type=int, default=None, help="Chunks for local mode if fewer (its upload is slow).")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--local-queries", type=int, default=20, help="Queries for local mode (~0.15-3 s each at 100k).")
    parser.add_argument("--engines", nargs="+", default=["edge", "local"], choices=["edge", "local"])
    parser.add_argument("--local-copy", type=int, default=0, help="Shipped chunks copied into local mode (0 = all).")
    parser.add_argument("--no-local-memory", dest="local_memory", action="store_false",
                        help="Skip local mode's full-size query run (in memory).")
    parser.add_argument("--no-shipped", dest="shipped", action="store_false", help="Skip the shipped-corpus part.")
    parser.add_argument("--json", dest="json_path", help="Also write the results here.")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        if kind == "build":
            result = child_build(int(rest[0]))
        elif kind == "memory":
            result = child_memory(*map(int, rest))
        else:
            result = child_query(int(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return

    results: dict = {"cpu_count": os.cpu_count(), "loadavg_start": os.getloadavg()[0]}
    rows = []
    if args.points:
        results["synthetic"] = {}
        for engine in args.engines:
            n = args.points if engine == "edge" else (args.local_points or args.points)
            print(f"{engine}: {n} chunks ...", file=sys.stderr, flush=True)
            results["synthetic"][engine] = bench_synthetic(engine, n, args.queries, args.local_queries)
        if "local" in args.engines and args.local_memory:
            print(f"local mode in memory: {args.points} chunks ...", file=sys.stderr, flush=True)
            with tempfile.TemporaryDirectory(prefix="tutor-store-memory-") as tmp:
                results["synthetic"]["local_memory"] = run_child(
                    "local", Path(tmp), ["memory", str(args.points), str(args.queries), str(args.local_queries)]
                )
        results["synthetic"]["numpy"] = bench_numpy(args.points, args.queries)
        syn = results["synthetic"]
        np_ms = min(syn["numpy"]["top5"], syn["numpy"]["top5_one_thread"], key=lambda r: r["p50"])  # the faster baseline
        for engine in args.engines:
            r = syn[engine]
            rows.append((f"{engine}: upload chunks/s ({r['points']} chunks)", r["upload_chunks_per_s"], "", f"{r['upload_s']} s"))
            rows.append((f"{engine}: open the store, s", r["open_s"], "", ""))
            for key in ("top5", "top5_payload", "top5_feed_common", "top5_feed_rare", "top20_unfiltered"):
                if key in r:
                    rows.append((f"{engine}: {key} ms p50/p95", f"{r[key]['p50']}/{r[key]['p95']}", f"{np_ms['p50']}/{np_ms['p95']}", f"n={r[key]['n']}"))
            rows.append((f"{engine}: resident memory MiB / disk MiB", r["rss_mib"], syn["numpy"]["matrix_mib"], f"disk {r['disk_mib']}"))
        if "local_memory" in syn:
            r = syn["local_memory"]
            for key in ("top5", "top5_feed_common", "top5_feed_rare"):
                rows.append((f"local, in memory: {key} ms p50/p95 ({r['points']} chunks)", f"{r[key]['p50']}/{r[key]['p95']}", f"{np_ms['p50']}/{np_ms['p95']}", f"n={r[key]['n']}"))
            rows.append(("local, in memory: resident memory MiB", r["rss_mib"], syn["numpy"]["matrix_mib"], ""))
        if "edge" in syn and "local" in syn:
            ratio = syn["edge"]["upload_chunks_per_s"] / syn["local"]["upload_chunks_per_s"]
            results["synthetic"]["upload_ratio_edge_over_local"] = round(ratio, 1)
            rows.append(("upload rate, Edge / local mode", f"{ratio:.1f}x", "", "target ≥ 10x"))
    if args.shipped:
        results["shipped"] = bench_shipped(args.local_copy)
        rows += results["shipped"].pop("rows")
    results["loadavg_end"] = os.getloadavg()[0]

    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"{'measure':<{width}}  {'value':>14}  {'numpy/plain':>14}  note")
    for name, value, base, note in rows:
        print(f"{name:<{width}}  {value!s:>14}  {base!s:>14}  {note}")
    print(f"load average {results['loadavg_start']:.1f} → {results['loadavg_end']:.1f} on {results['cpu_count']} CPUs")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
