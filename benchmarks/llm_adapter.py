"""The transformers backend with a LoRA adapter: does the adapter load and change the answer, and
how do time to first token and throughput behave at 1, 8 and 32 concurrent requests.

    python benchmarks/llm_adapter.py --model-path model.gguf --json out.json               # CUDA when present
    python benchmarks/llm_adapter.py --device cpu --concurrency 1 2 --max-tokens 8        # CPU smoke run

Written for the lent GPU machine, where vLLM cannot be installed (see docs/benchmarks.md), so the
GPU-serving numbers come from the tutor's own in-process path: ``TransformersLLM`` on CUDA with a
PEFT adapter. The adapter is made here (LoRA r=16 on the attention projections, non-zero init so
it must change the output); a real one from fine-tuning loads the same way.

What is measured, in one run:
* load time of the base model and of base + adapter; whether the adapter is applied (the model is
  a ``PeftModel`` and the greedy answer differs from the base model's);
* one conversation: TTFT cold and on a follow-up turn, decode tok/s, beside plain
  ``model.generate`` on the same prompt tokens (the baseline for the tutor's streaming overhead);
* N concurrent users (threads) each streaming the ~700-token RAG prompt: TTFT p50/p95 and
  aggregate tokens/s. The in-process backend serves one request at a time (a queue), so
  throughput stays flat and TTFT grows with N: that is the number vLLM's batching improves on.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.llm import FOLLOW_UP, Timer, rag_messages  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


def make_adapter(model_ref: str, load_kwargs: dict, out_dir: Path) -> Path:
    """A LoRA adapter with random (non-zero) B matrices, saved where PEFT expects one."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(model_ref, dtype=torch.float32, **load_kwargs)
    config = LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                        init_lora_weights=False, task_type="CAUSAL_LM")
    get_peft_model(base, config).save_pretrained(str(out_dir))
    return out_dir


def stream(llm, messages: list[dict]) -> tuple[dict, str]:
    from llama_index.core.base.llms.types import ChatMessage

    timer = Timer()
    for r in llm.stream_chat([ChatMessage(role=m["role"], content=m["content"]) for m in messages]):
        timer.piece(r.delta or "")
    timer.done()
    return timer.result(llm.count_tokens(timer.text)), timer.text


def raw_generate(llm, max_tokens: int) -> dict:
    """Plain ``model.generate`` on the same rendered prompt (no streamer, no queue).

    Decode rate = (N - 1) / (time for N tokens - time for 1 token), so prefill is excluded
    exactly as the streamed TTFT excludes it on the tutor's side.
    """
    import torch

    inputs = llm.tokenizer(llm.render(rag_messages()), return_tensors="pt", add_special_tokens=False).to(llm.device)

    def timed(n: int) -> tuple[int, float]:
        if llm.device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = llm.model.generate(**inputs, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                                     pad_token_id=llm.tokenizer.eos_token_id)
        if llm.device == "cuda":
            torch.cuda.synchronize()
        return out.shape[1] - inputs["input_ids"].shape[1], time.perf_counter() - t0

    _, one = timed(1)
    new, full = timed(max_tokens)
    return {"tokens": int(new), "prefill_s": one, "tok_s": (new - 1) / max(full - one, 1e-9)}


def concurrent(llm, users: int) -> dict:
    """``users`` threads start together, each streaming one answer; TTFT per user, total tokens/s."""
    results: list[dict] = []
    errors: list[str] = []
    gate = threading.Barrier(users)

    def user() -> None:
        gate.wait()
        try:
            results.append(stream(llm, rag_messages())[0])
        except Exception as exc:  # recorded: a failure under load is a result, not a crash
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=user) for _ in range(users)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ttfts = [r["ttft_s"] for r in results]
    tokens = sum(r["tokens"] for r in results)
    return {
        "users": users,
        "completed": len(results),
        "errors": errors[:3],
        "ttft_p50_s": pct(ttfts, 50) if ttfts else None,
        "ttft_p95_s": pct(ttfts, 95) if ttfts else None,
        "tokens": tokens,
        "wall_s": wall,
        "throughput_tok_s": tokens / wall,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-path", required=True, help="a .gguf file or a transformers model dir")
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda when present)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch

    from tutor.llm.backends.transformers_backend import TransformersLLM

    path = Path(args.model_path).expanduser()
    ref, load_kwargs = (str(path.parent), {"gguf_file": path.name}) if path.suffix == ".gguf" else (str(path), {})
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    common = dict(context_window=4096, max_new_tokens=args.max_tokens, temperature=0.0, device=device)
    info = {"device": device, "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None, "model": path.name}
    print(json.dumps(info), file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="tutor-adapter-") as tmp:
        t0 = time.perf_counter()
        adapter = make_adapter(ref, load_kwargs, Path(tmp) / "adapter")
        make_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        base = TransformersLLM(ref, load_kwargs=load_kwargs, model_name="base", **common)
        base_load_s = time.perf_counter() - t0
        base_answer = stream(base, rag_messages())[1]
        del base
        if device == "cuda":
            torch.cuda.empty_cache()

        t0 = time.perf_counter()
        llm = TransformersLLM(ref, load_kwargs=load_kwargs, adapter_path=adapter, model_name="tutor", **common)
        adapter_load_s = time.perf_counter() - t0

    first, answer = stream(llm, rag_messages())  # warm-up turn (CUDA kernels, caches)
    first, answer = stream(llm, rag_messages())
    follow, _ = stream(llm, [*rag_messages(), {"role": "assistant", "content": answer},
                             {"role": "user", "content": FOLLOW_UP}])
    raw = raw_generate(llm, args.max_tokens)
    sweep = [concurrent(llm, n) for n in args.concurrency]

    results = {
        **info,
        "prompt_tokens": llm.count_tokens(llm.render(rag_messages())),
        "max_tokens": args.max_tokens,
        "adapter_make_s": make_s,
        "base_load_s": base_load_s,
        "adapter_load_s": adapter_load_s,
        "adapter_applied": type(llm.model).__name__.startswith("Peft"),
        "adapter_changes_answer": answer != base_answer,
        "ttft_cold_s": first["ttft_s"],
        "ttft_follow_up_s": follow["ttft_s"],
        "decode_tok_s": first["decode_tok_s"],
        "raw_generate_tok_s": raw["tok_s"],
        "raw_prefill_s": raw["prefill_s"],
        "decode_vs_raw": first["decode_tok_s"] / raw["tok_s"],
        "concurrency": sweep,
    }
    print(f"\n{info['gpu'] or device}: {path.name} + LoRA adapter (applied: {results['adapter_applied']}, "
          f"changes the answer: {results['adapter_changes_answer']}), {results['prompt_tokens']}-token prompt")
    print(f"load s: base {base_load_s:.2f}, with adapter {adapter_load_s:.2f}")
    print(f"TTFT cold {first['ttft_s']:.3f} s, follow-up {follow['ttft_s']:.3f} s; decode {first['decode_tok_s']:.1f} "
          f"tok/s vs raw generate {raw['tok_s']:.1f} tok/s ({results['decode_vs_raw']:.2f}x)")
    print(f"{'users':>5} {'done':>5} {'TTFT p50 s':>11} {'TTFT p95 s':>11} {'tokens/s':>9} {'wall s':>7}")
    for row in sweep:
        p50 = "-" if row["ttft_p50_s"] is None else f"{row['ttft_p50_s']:.3f}"
        p95 = "-" if row["ttft_p95_s"] is None else f"{row['ttft_p95_s']:.3f}"
        print(f"{row['users']:>5} {row['completed']:>5} {p50:>11} {p95:>11} {row['throughput_tok_s']:>9.1f} "
              f"{row['wall_s']:>7.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if results["adapter_applied"] and all(r["completed"] == r["users"] for r in sweep) else 1


if __name__ == "__main__":
    sys.exit(main())
