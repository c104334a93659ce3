"""Do llama.cpp + the GGUF LoRA and transformers + peft produce the same greedy tokens?

The llama.cpp base is the shipped quantised GGUF (Q4_K_M for the default model) while transformers
runs its dequantised weights, so the two bases already differ a little: their agreement without the
adapter is reported beside the agreement with it, as the reference for what "the same" can mean.

Both sides get identical prompt token ids (the HF tokenizer's chat template, applied once), and each
row reports the shared prefix of the two greedy continuations.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

PROMPTS = [
    "What does dropout do during training?",
    "Explain what a learning rate warm-up is, in two sentences.",
    "Which layer type suits image inputs, and why?",
    "Write one line of PyTorch that creates an LSTM with batch_first=True.",
]


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def greedy_agreement(base_gguf: Path, hf_dir: Path, adapter_dir: Path, lora_gguf: Path, *, n_tokens: int = 24,
                     prompts: list[str] | None = None, threads: int | None = None) -> dict[str, Any]:
    import torch
    from llama_cpp import Llama
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    prompts = prompts or PROMPTS
    tok = AutoTokenizer.from_pretrained(str(hf_dir))
    ids = [tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, tokenize=True)
           for p in prompts]
    ids = [list(x["input_ids"]) if isinstance(x, dict) or hasattr(x, "keys") else list(x) for x in ids]

    def cpp(lora: Path | None) -> list[list[int]]:
        llm = Llama(model_path=str(base_gguf), lora_path=str(lora) if lora else None, n_ctx=1024, verbose=False,
                    n_threads=threads)
        outs = []
        for prompt in ids:
            llm.reset()
            got: list[int] = []
            for t in llm.generate(prompt, temp=0.0, top_k=1, repeat_penalty=1.0, reset=True):
                if llm.token_eos() == t or len(got) >= n_tokens:
                    break
                got.append(int(t))
            outs.append(got)
        llm.close()
        return outs

    def hf(model: Any) -> list[list[int]]:
        outs = []
        eos = tok.convert_tokens_to_ids("<|im_end|>") if "<|im_end|>" in tok.get_vocab() else tok.eos_token_id
        for prompt in ids:
            x = torch.tensor([prompt])
            with torch.no_grad():
                y = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, max_new_tokens=n_tokens,
                                   eos_token_id=eos, pad_token_id=tok.pad_token_id or eos)
            outs.append([int(t) for t in y[0, len(prompt):] if int(t) != eos][:n_tokens])
        return outs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cpp_base, cpp_lora = cpp(None), cpp(lora_gguf)
        model = AutoModelForCausalLM.from_pretrained(str(hf_dir), dtype=torch.float32).eval()
        hf_base = hf(model)
        hf_lora = hf(PeftModel.from_pretrained(model, str(adapter_dir)).eval())

    rows = []
    for i, p in enumerate(prompts):
        rows.append({
            "prompt": p,
            "base_prefix": _common_prefix(cpp_base[i], hf_base[i]),
            "adapter_prefix": _common_prefix(cpp_lora[i], hf_lora[i]),
            "adapter_changed_cpp": cpp_lora[i] != cpp_base[i],
            "adapter_changed_hf": hf_lora[i] != hf_base[i],
            "cpp_adapter_text": tok.decode(cpp_lora[i]),
            "hf_adapter_text": tok.decode(hf_lora[i]),
        })
    total = n_tokens * len(prompts)
    return {
        "n_tokens": n_tokens,
        "base_agreement": sum(r["base_prefix"] for r in rows) / total,
        "adapter_agreement": sum(r["adapter_prefix"] for r in rows) / total,
        "base_exact": sum(cpp_base[i] == hf_base[i] for i in range(len(prompts))),
        "adapter_exact": sum(cpp_lora[i] == hf_lora[i] for i in range(len(prompts))),
        "prompts": len(prompts),
        "rows": rows,
    }
