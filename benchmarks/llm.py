"""LLM runtime benchmark: load time, time to first token (cold and follow-up turn), decode speed.

    python benchmarks/llm.py                       # default preset, llamacpp vs raw llama-cpp-python
    python benchmarks/llm.py --repeats 5 --json out.json
    python benchmarks/llm.py --transformers        # also the transformers backend (slow: ~70 s load, ~5 tok/s)
    python benchmarks/llm.py --preset smollm2-135m --max-tokens 32   # quick smoke run

Each backend answers the same ~700-token RAG-style prompt (system prompt + five passages + a
question) at temperature 0, then a follow-up question in the same conversation. "cold" TTFT
starts from an empty KV cache; "follow-up" TTFT is the second turn, where llama.cpp reuses the
KV of everything the two prompts share. Raw llama-cpp-python runs the identical prompt tokens in the
same process as the baseline for the tutor's own overhead. Medians over --repeats.

Targets (2 CPU cores, default model): tutor decode >= 0.9x raw, TTFT cold <= 2.5 s, follow-up <= 0.5 s.
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

SYSTEM = (
    "You are a deep-learning tutor. Answer only from the numbered passages below and cite them inline as [n]. "
    "Keep exact names, numbers and code identifiers as the passages give them. If the passages do not contain "
    "the answer, say so."
)

PASSAGES = [
    "Convolutional neural networks learn local filters that slide across an image. Each filter is a small "
    "tensor of weights, for example 3x3 over the input channels, and the same weights are applied at every "
    "position, which is called weight sharing. Stacking convolution, ReLU activation and max pooling layers "
    "builds a hierarchy: early layers respond to edges and colours, deeper layers to textures, parts and whole "
    "objects. A typical Keras model for 28x28 grey images starts with Conv2D(32, (3, 3), activation='relu'), "
    "then MaxPooling2D((2, 2)), then Conv2D(64, (3, 3)), flattens and ends with Dense(10, activation='softmax'). "
    "It is compiled with optimizer='adam' and loss='sparse_categorical_crossentropy' when labels are integers.",
    "Recurrent neural networks process a sequence one step at a time and carry a hidden state from step to "
    "step. Plain RNNs struggle with long sequences because gradients shrink or grow exponentially when they are "
    "propagated back through many steps. The LSTM adds a cell state and three gates (input, forget and output) "
    "that decide what to write, keep and read; the GRU merges these into two gates. In PyTorch, nn.LSTM takes "
    "input of shape (seq_len, batch, input_size) unless batch_first=True, in which case it is (batch, seq_len, "
    "input_size). Gradient clipping, for example torch.nn.utils.clip_grad_norm_ with max_norm=1.0, keeps "
    "training stable.",
    "Overfitting means the model memorises the training set and does worse on new data: training loss keeps "
    "falling while validation loss rises. Remedies include more data, data augmentation (random crops, flips, "
    "colour jitter), weight decay, dropout and early stopping. Dropout randomly zeroes a fraction p of "
    "activations during training, 0.5 for dense layers and 0.1 to 0.3 for convolutional layers being common "
    "choices, and is switched off at evaluation time with model.eval(). Early stopping watches the validation "
    "loss and keeps the best checkpoint, typically with a patience of 5 to 10 epochs.",
    "Backpropagation computes the gradient of the loss with respect to every weight by applying the chain rule "
    "from the output layer back to the input. Each layer receives the gradient of the loss with respect to its "
    "output, multiplies it by its local Jacobian and passes the result on. Optimisers then update the weights: "
    "SGD subtracts the learning rate times the gradient, momentum adds a running average of past gradients, and "
    "Adam keeps per-parameter estimates of the first and second moments with default betas 0.9 and 0.999 and "
    "epsilon 1e-8. A learning rate of 1e-3 is the usual starting point for Adam.",
    "The universal approximation theorem states that a feed-forward network with a single hidden layer and a "
    "non-polynomial activation can approximate any continuous function on a compact set to any accuracy, given "
    "enough hidden units. It says nothing about how many units are needed or whether gradient descent will find "
    "the weights, which is why deeper networks, which can represent some functions with exponentially fewer "
    "units, are used in practice. Activations such as ReLU, GELU and tanh all satisfy the theorem's condition.",
]

QUESTION = "Which loss does the Keras CNN compile with, and why that one?"
FOLLOW_UP = "And how would I stop that model from overfitting?"


def rag_messages() -> list[dict]:
    context = "\n\n".join(f"[{i}] {p}" for i, p in enumerate(PASSAGES, 1))
    return [
        {"role": "system", "content": f"{SYSTEM}\n\nPassages:\n{context}"},
        {"role": "user", "content": QUESTION},
    ]


class Timer:
    """Times one streamed generation: time to the first piece, then decode rate over the rest."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first: float | None = None
        self.end: float | None = None
        self.text = ""

    def piece(self, text: str) -> None:
        if self.first is None and text:
            self.first = time.perf_counter()
        self.text += text

    def done(self) -> None:
        self.end = time.perf_counter()

    def result(self, n_tokens: int) -> dict:
        assert self.first is not None and self.end is not None, "no text was generated"
        decode_s = self.end - self.first
        return {
            "ttft_s": self.first - self.start,
            "tokens": n_tokens,
            "decode_tok_s": (n_tokens - 1) / decode_s if n_tokens > 1 and decode_s > 0 else float("nan"),
        }


class RawRunner:
    """Plain llama-cpp-python on the same prompt tokens: the ceiling the tutor is compared with."""

    name = "raw llama-cpp-python"

    def __init__(self, gguf: Path, render, threads: int, ctx: int, max_tokens: int) -> None:
        from llama_cpp import Llama

        t0 = time.perf_counter()
        self.llama = Llama(model_path=str(gguf), n_ctx=ctx, n_threads=threads, n_threads_batch=threads, verbose=False)
        self.load_s = time.perf_counter() - t0
        self.render, self.max_tokens = render, max_tokens

    def count(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode(), add_bos=False, special=True))

    def reset(self) -> None:
        self.llama.reset()

    def prompt_tokens(self) -> int:
        return self.count(self.render(rag_messages()))

    def run(self, messages: list[dict]) -> tuple[dict, str]:
        tokens = self.llama.tokenize(self.render(messages).encode(), add_bos=False, special=True)
        timer = Timer()
        for chunk in self.llama.create_completion(tokens, max_tokens=self.max_tokens, temperature=0.0,
                                                  repeat_penalty=1.0, stream=True):
            timer.piece(chunk["choices"][0]["text"])
        timer.done()
        return timer.result(self.count(timer.text)), timer.text


class TutorRunner:
    """A tutor backend (any ``TutorLLM``) driven through llama-index's ``stream_chat``."""

    def __init__(self, name: str, llm, load_s: float, reset=None) -> None:
        self.name, self.llm, self.load_s, self._reset = name, llm, load_s, reset

    def reset(self) -> None:
        if self._reset is not None:
            self._reset()

    def prompt_tokens(self) -> int:
        return self.llm.count_tokens(self.llm.render(rag_messages()))

    def run(self, messages: list[dict]) -> tuple[dict, str]:
        from llama_index.core.base.llms.types import ChatMessage

        timer = Timer()
        for r in self.llm.stream_chat([ChatMessage(role=m["role"], content=m["content"]) for m in messages]):
            timer.piece(r.delta or "")
        timer.done()
        return timer.result(self.llm.count_tokens(timer.text)), timer.text


def _prompt_evals(runner) -> int | None:
    """Prompt tokens llama.cpp has evaluated so far (None for non-llama.cpp backends)."""
    llama = getattr(runner, "llama", None) or getattr(getattr(runner, "llm", None), "llama", None)
    if llama is None:
        return None
    import llama_cpp

    return llama_cpp.llama_perf_context(llama._ctx.ctx).n_p_eval


def conversation(runner) -> tuple[dict, dict]:
    """Cold first turn from an empty KV cache, then a follow-up question in the same conversation."""
    runner.reset()
    first, answer = runner.run(rag_messages())
    follow_messages = [*rag_messages(), {"role": "assistant", "content": answer}, {"role": "user", "content": FOLLOW_UP}]
    before = _prompt_evals(runner)
    follow, _ = runner.run(follow_messages)
    # How much of the follow-up prompt was actually evaluated: proof the shared prefix was reused,
    # independent of how busy the machine is.
    follow["evaluated_tokens"] = None if before is None else _prompt_evals(runner) - before
    return first, follow


def summarise(name: str, load_s: float, runs: list[tuple[dict, dict]], *, prompt_tokens: int) -> dict:
    med = statistics.median
    return {
        "backend": name,
        "load_s": load_s,
        "prompt_tokens": prompt_tokens,
        "ttft_cold_s": med(r[0]["ttft_s"] for r in runs),
        "ttft_follow_up_s": med(r[1]["ttft_s"] for r in runs),
        "decode_tok_s": med(r[0]["decode_tok_s"] for r in runs),
        "tokens_generated": med(r[0]["tokens"] for r in runs),
        "follow_up_evaluated_tokens": (
            med(r[1]["evaluated_tokens"] for r in runs) if runs[0][1].get("evaluated_tokens") is not None else None
        ),
        "repeats": len(runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="qwen2.5-coder-0.5b")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=96, help="tokens generated per turn (decode is measured on these)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--context", type=int, default=4096)
    parser.add_argument("--transformers", action="store_true", help="also run the transformers backend (slow)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)

    from tutor.config import Settings
    from tutor.llm.backends.llamacpp import default_threads
    from tutor.llm.model_files import gguf_path
    from tutor.llm.presets import get_preset

    preset = get_preset(args.preset)
    threads = args.threads or default_threads()
    gguf = gguf_path(preset, Settings(), progress=True)
    print(f"model {preset.name} ({gguf}), {threads} threads, {args.repeats} repeats, {args.max_tokens} tokens/turn",
          file=sys.stderr)

    from tutor.llm.backends.llamacpp import LlamaCppLLM

    t0 = time.perf_counter()
    llm = LlamaCppLLM(gguf, n_threads=threads, context_window=args.context, max_new_tokens=args.max_tokens,
                      temperature=0.0, model_name=preset.name)
    runners = [TutorRunner("tutor llamacpp", llm, time.perf_counter() - t0, reset=llm.reset_cache)]
    # The baseline renders with the very same template, so both see identical prompt tokens.
    runners.insert(0, RawRunner(gguf, llm.render, threads, args.context, args.max_tokens))
    if args.transformers:
        from tutor.llm.backends.transformers_backend import TransformersLLM

        t0 = time.perf_counter()
        hf = TransformersLLM(gguf.parent, load_kwargs={"gguf_file": gguf.name}, context_window=args.context,
                             max_new_tokens=args.max_tokens, temperature=0.0, model_name=f"{preset.name}-hf")
        runners.append(TutorRunner("tutor transformers", hf, time.perf_counter() - t0))

    # Backends take turns within each repeat, so a change in machine load hits all of them alike.
    runs: dict[str, list] = {r.name: [] for r in runners}
    for i in range(args.repeats):
        for runner in runners:
            runs[runner.name].append(conversation(runner))
        print(f"repeat {i + 1}/{args.repeats} done", file=sys.stderr)
    results = [summarise(r.name, r.load_s, runs[r.name], prompt_tokens=r.prompt_tokens()) for r in runners]
    raw, tutor = results[0], results[1]

    ratio = tutor["decode_tok_s"] / raw["decode_tok_s"]
    targets = {
        "decode_vs_raw": {"value": ratio, "target": ">= 0.9", "ok": ratio >= 0.9},
        "ttft_cold_s": {"value": tutor["ttft_cold_s"], "target": "<= 2.5", "ok": tutor["ttft_cold_s"] <= 2.5},
        "ttft_follow_up_s": {"value": tutor["ttft_follow_up_s"], "target": "<= 0.5", "ok": tutor["ttft_follow_up_s"] <= 0.5},
    }

    header = (f"{'backend':<22} {'load s':>7} {'prompt tok':>10} {'TTFT cold s':>12} {'TTFT follow s':>14} "
              f"{'follow eval tok':>16} {'decode tok/s':>13}")
    print(header)
    print("-" * len(header))
    for r in results:
        evals = r["follow_up_evaluated_tokens"]
        print(f"{r['backend']:<22} {r['load_s']:>7.2f} {r['prompt_tokens']:>10d} {r['ttft_cold_s']:>12.3f} "
              f"{r['ttft_follow_up_s']:>14.3f} {'-' if evals is None else int(evals):>16} {r['decode_tok_s']:>13.1f}")
    print()
    for name, t in targets.items():
        print(f"{name:<18} {t['value']:>8.3f}  target {t['target']:<7} {'PASS' if t['ok'] else 'MISS'}")
    if args.json:
        payload = {"preset": preset.name, "threads": threads, "max_tokens": args.max_tokens, "results": results,
                   "targets": targets, "cpu_count": os.cpu_count()}
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
