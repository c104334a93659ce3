"""Training speed of the fine-tuning recipe: tokens/s with and without packing, QLoRA (nf4) against
LoRA on the unquantised base, and each configuration's peak memory.

    python benchmarks/finetune.py                                   # SmolLM2-135M, 4 timed steps each
    python benchmarks/finetune.py --preset qwen2.5-coder-0.5b --steps 3 --max-length 512 --json out.json
    python benchmarks/finetune.py --preset qwen2.5-1.5b-gpu.yaml --configs nf4-packed   # on a lent GPU
    python benchmarks/finetune.py compare --adapter DIR --limit 13 --json out.json      # base vs adapter

Each configuration runs in its own process (so its peak RSS / CUDA peak is its own) through the same
``TrainRecipe`` that `tutor finetune train` uses, on the SFT set in ``$TUTOR_HOME/finetune/data``
(build it with `tutor finetune data`). The first step is a warm-up and is not timed; the step time is
the median of the rest; tokens/s = trained tokens (TRL's ``num_tokens``) / timed seconds. Ratios are
against QLoRA-packed of the same run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

CONFIGS = {
    "nf4-packed": {"quantization": "nf4", "packing": True},
    "nf4-unpacked": {"quantization": "nf4", "packing": False},
    "lora-fp32-packed": {"quantization": "none", "packing": True},
}


def _one(preset: str, name: str, steps: int, max_length: int, threads: int | None, queue) -> None:
    import resource

    import torch
    from transformers import TrainerCallback

    from finetune.config import PRESETS_DIR, load_config
    from finetune.train import TrainRecipe

    path = Path(preset) if preset.endswith(".yaml") else PRESETS_DIR / f"{preset}.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(path, name=f"bench-{name}", max_steps=steps + 1, max_length=max_length, save_steps=10_000,
                          max_val_items=0, threads=threads, warmup_steps=0, **CONFIGS[name])
        from tutor.config import get_settings

        settings = get_settings()
        recipe = TrainRecipe(cfg, settings, progress=False)
        recipe.out_dir = Path(tmp) / "run"  # benchmark runs leave no checkpoints behind
        recipe.setup()
        times: list[float] = []

        class Clock(TrainerCallback):
            def on_step_begin(self, args, state, control, **kw):
                self.t = time.perf_counter()

            def on_step_end(self, args, state, control, **kw):
                times.append(time.perf_counter() - self.t)

        recipe.trainer.add_callback(Clock())
        recipe.train()
        tokens = [h["num_tokens"] for h in recipe.trainer.state.log_history if "num_tokens" in h]
        timed_tokens = tokens[-1] - tokens[0] if len(tokens) > 1 else 0
        cuda_peak = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None
        queue.put({
            "config": name, "steps_timed": len(times) - 1, "step_s_median": statistics.median(times[1:]),
            "tokens_timed": timed_tokens, "tokens_per_s": timed_tokens / sum(times[1:]) if timed_tokens else None,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "cuda_peak_mb": cuda_peak,
        })


def faithfulness_rows(limit: int | None) -> list[dict]:
    """The faithfulness eval's own per-question rows (evals.faithfulness.run) for the current settings.

    Only the rows are taken: the suite's summary step is bypassed because at the time of writing it
    recursed into itself (evals/faithfulness.py ``summarise``); the rates are computed here instead.
    """
    import evals.faithfulness as faith
    from tutor.llm.load import load_llm

    faith.summarise = lambda rows, *a, **k: {"rows": rows}
    return faith.run(load_llm(), limit=limit, progress=True)["rows"]


def compare_main(argv: list[str]) -> int:
    """``compare``: base against adapter on the faithfulness questions, same settings otherwise."""
    import re

    p = argparse.ArgumentParser(prog="benchmarks/finetune.py compare")
    p.add_argument("--adapter", required=True, help="Adapter folder (with adapter.gguf) or GGUF LoRA file.")
    p.add_argument("--limit", type=int, default=None, help="First N faithfulness questions.")
    p.add_argument("--which", choices=["base", "adapter", "both"], default="both")
    p.add_argument("--json", dest="json_path", default=None)
    args = p.parse_args(argv)
    from tutor.config import get_settings
    from tutor.llm.load import reset_llm

    report = {}
    for which in (["base", "adapter"] if args.which == "both" else [args.which]):
        os.environ["TUTOR_USE_ADAPTER"] = "true" if which == "adapter" else "false"
        os.environ["TUTOR_ADAPTER_PATH"] = str(Path(args.adapter).resolve())
        get_settings.cache_clear()
        reset_llm()
        rows = faithfulness_rows(args.limit)
        n = len(rows)
        inline = [bool(re.search(r"\[\d+\]", r["answer"])) for r in rows]
        report[which] = {
            "questions": n,
            "exact_keep": sum(r["kept"] for r in rows) / n,
            "given": sum(r["given"] for r in rows) / n,
            "inline_citation_rate": sum(inline) / n,
            "citations_valid": sum(r["citations_valid"] for r in rows) / n,
            "invalid_markers": sum(r["invalid_markers"] for r in rows),
            "latency_s_median": statistics.median(r["latency_s"] for r in rows),
            "rows": rows,
        }
        if args.json_path:
            Path(args.json_path).write_text(json.dumps(report, indent=1))
    settings = get_settings()
    print(f"faithfulness, first {args.limit or 'all'} questions, attribute_citations={settings.attribute_citations}, "
          f"max_new_tokens={settings.max_new_tokens}")
    print("| model | questions | exact-keep | given | inline [n] | citations valid | invalid [n] | median s |")
    print("|---|---|---|---|---|---|---|---|")
    for which, r in report.items():
        print(f"| {which} | {r['questions']} | {r['exact_keep']:.2f} | {r['given']:.2f} | {r['inline_citation_rate']:.2f} "
              f"| {r['citations_valid']:.2f} | {r['invalid_markers']} | {r['latency_s_median']:.1f} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "compare":
        return compare_main(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="smoke-smollm2-135m", help="Preset name or .yaml path (its base and LoRA).")
    p.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument("--steps", type=int, default=4, help="Timed steps per configuration (after one warm-up).")
    p.add_argument("--max-length", type=int, default=384, help="Tokens per sequence.")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads.")
    p.add_argument("--json", dest="json_path", default=None, help="Also write the results here.")
    args = p.parse_args(argv)

    ctx = mp.get_context("spawn")
    rows = []
    for name in args.configs:
        queue = ctx.Queue()
        proc = ctx.Process(target=_one, args=(args.preset, name, args.steps, args.max_length, args.threads, queue))
        proc.start()
        proc.join()
        if proc.exitcode != 0:
            print(f"error: configuration {name} failed (exit {proc.exitcode})", file=sys.stderr)
            return 1
        rows.append(queue.get())
    ref = next((r for r in rows if r["config"] == "nf4-packed"), rows[0])
    print(f"preset {args.preset}, {args.max_length} tokens/sequence, median of {args.steps} steps after a warm-up")
    print(f"| config | s/step | tokens/s | x {ref['config']} tokens/s | peak RSS MB | CUDA peak MB |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        ratio = (r["tokens_per_s"] / ref["tokens_per_s"]) if r["tokens_per_s"] and ref["tokens_per_s"] else None
        print(f"| {r['config']} | {r['step_s_median']:.2f} | {r['tokens_per_s'] or 0:.1f} | "
              f"{ratio if ratio is None else round(ratio, 2)} | {r['peak_rss_mb']:.0f} | {r['cuda_peak_mb'] or '-'} |")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps({"preset": args.preset, "max_length": args.max_length,
                                                    "steps": args.steps, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
