"""What the tutor's answer path costs beyond the model: retrieval, prompt building, streaming,
citation checks and attribution, against raw llama-cpp-python generating from the same final prompt.

    python benchmarks/answer_overhead.py                 # 8 questions of evals/datasets/answers.jsonl
    python benchmarks/answer_overhead.py --n 4 --json benchmarks/results/answer_overhead.json

For each question: the tutor answers (``ask`` with the agent's explanations-only view, as a conceptual
question is answered) and the exact chat messages it sent the model are recorded; then raw
llama-cpp-python renders those messages with the same template and generates greedily from them with
the same limits. Both start from an empty KV cache and run back to back in this process, so machine
speed and load cancel in the ratio. Reported: medians of both, the per-question ratio's median
(target ≤ 1.2, issue 10) and the prompt tokens per answer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def questions(n: int) -> list[str]:
    """The first answerable question of each topic in turn, so the sample spans the roadmap."""
    rows = [json.loads(line) for line in Path("evals/datasets/answers.jsonl").read_text().splitlines() if line.strip()]
    by_topic: dict[str, list[str]] = {}
    for r in rows:
        if r.get("answerable", True):
            by_topic.setdefault(r["topic"], []).append(r["question"])
    out, i = [], 0
    while len(out) < n and any(i < len(v) for v in by_topic.values()):
        out += [v[i] for v in by_topic.values() if i < len(v)][: n - len(out)]
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=8, help="questions (default 8)")
    p.add_argument("--json", dest="json_path", type=Path, help="also write the rows and medians here")
    args = p.parse_args(argv)

    from knowledge.corpus_default import ensure_default_corpus
    from knowledge.retrieve import get_retriever
    from tutor.agent.ask import ask
    from tutor.agent.scope import ExplanationsOnly
    from tutor.config import get_settings
    from tutor.llm.load import get_llm

    settings = get_settings()
    ensure_default_corpus(settings)
    retriever = ExplanationsOnly(get_retriever(settings))
    llm = get_llm()
    sent: list[list] = []
    cls = type(llm)
    original = cls.stream_chat

    def recording(self, messages, **kw):  # the tutor's final prompt, exactly as the backend gets it
        sent.append(list(messages))
        return original(self, messages, **kw)

    cls.stream_chat = recording
    # One answer first, not counted: loading the model, the encoder and the indexes is start-up, not
    # the per-answer cost this measures.
    ask("What is a neural network?", llm=llm, retriever=retriever, settings=settings)
    rows = []
    try:
        for q in questions(args.n):
            llm.reset_cache()
            t0 = time.perf_counter()
            answer = ask(q, llm=llm, retriever=retriever, settings=settings)
            tutor_s = time.perf_counter() - t0
            if not answer.grounded or not sent:
                print(f"skipped (abstained before the model): {q[:60]}", file=sys.stderr)
                continue
            messages = [{"role": m.role.value, "content": m.content} for m in sent[-1]]
            prompt = llm.tokenize(llm.render(messages))
            llm.reset_cache()
            t0 = time.perf_counter()
            out = llm.llama.create_completion(prompt, max_tokens=settings.max_new_tokens, temperature=0.0,
                                              repeat_penalty=1.0)
            raw_s = time.perf_counter() - t0
            rows.append({"question": q, "tutor_s": round(tutor_s, 3), "raw_s": round(raw_s, 3),
                         "ratio": round(tutor_s / raw_s, 3), "prompt_tokens": len(prompt),
                         "raw_new_tokens": out["usage"]["completion_tokens"]})
            print(f"{tutor_s:6.2f} s tutor  {raw_s:6.2f} s raw  {len(prompt):5d} prompt tokens  {q[:50]}", file=sys.stderr)
    finally:
        cls.stream_chat = original
    if not rows:
        print("error: every question abstained before the model; nothing to compare", file=sys.stderr)
        return 1
    med = {k: statistics.median(r[k] for r in rows) for k in ("tutor_s", "raw_s", "ratio", "prompt_tokens")}
    print("| n | tutor p50 | raw llama.cpp p50 | ratio p50 (target ≤ 1.2) | prompt tokens p50 |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {len(rows)} | {med['tutor_s']:.2f} s | {med['raw_s']:.2f} s | {med['ratio']:.2f} | {med['prompt_tokens']:.0f} |")
    if args.json_path:
        args.json_path.parent.mkdir(parents=True, exist_ok=True)
        args.json_path.write_text(json.dumps({"medians": med, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
