"""`tutor finetune export`: a peft LoRA adapter → llama.cpp's GGUF LoRA (llama-cpp-python's ``lora_path``).

The file is written with the ``gguf`` package. Its layout follows what llama.cpp's adapter loader
expects: KV ``general.architecture`` (the base's), ``general.type = "adapter"``,
``adapter.type = "lora"``, ``adapter.lora.alpha``; one pair of tensors per adapted weight, named
after the base GGUF's tensor plus ``.lora_a`` / ``.lora_b``. peft stores A as (r, in) and B as
(out, r); in ggml's reversed shape order those are exactly the [in, r] and [r, out] llama.cpp checks
against the base weight's [in, out], so no transpose is needed.

One conversion detail: llama.cpp's ``llama`` architecture keeps Q and K rows in a rotary-interleaved
order (its HF converter permutes them), so B of ``q_proj`` / ``k_proj`` (whose rows are the output
rows) gets the same permutation; Qwen2 stores them unpermuted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from tutor.errors import TutorError

_PEFT_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<ab>[AB])(?:\.default)?\.weight$")


def _permute_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """The row order llama.cpp's converter gives Q/K of the llama architecture (rotary halves interleaved)."""
    out = w.shape[0]
    return w.reshape(n_head, 2, out // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def base_gguf_info(gguf_path: Path) -> dict[str, Any]:
    """Architecture, block count, head counts and tensor names of the base GGUF."""
    import gguf

    reader = gguf.GGUFReader(str(gguf_path))

    def field(key: str) -> Any:
        f = reader.fields.get(key)
        if f is None:
            return None
        value = f.parts[f.data[0]]
        return bytes(value).decode() if f.types and f.types[0] == gguf.GGUFValueType.STRING else value.item()

    arch = field("general.architecture")
    return {
        "arch": arch,
        "n_blocks": field(f"{arch}.block_count"),
        "n_head": field(f"{arch}.attention.head_count"),
        "n_head_kv": field(f"{arch}.attention.head_count_kv"),
        "tensors": {t.name for t in reader.tensors},
    }


def export_gguf_lora(adapter_dir: Path, base_gguf: Path, out_path: Path, *, dtype: str = "f32") -> dict[str, Any]:
    """Write ``out_path`` from the peft adapter in ``adapter_dir`` for the base ``base_gguf``; returns a summary."""
    import gguf
    from safetensors.torch import load_file

    adapter_dir = Path(adapter_dir)
    cfg_path, weights_path = adapter_dir / "adapter_config.json", adapter_dir / "adapter_model.safetensors"
    if not cfg_path.is_file() or not weights_path.is_file():
        raise TutorError(f"{adapter_dir} is not a peft LoRA adapter (adapter_config.json + adapter_model.safetensors).")
    cfg = json.loads(cfg_path.read_text())
    if cfg.get("peft_type", "LORA") != "LORA":
        raise TutorError(f"{adapter_dir} holds a {cfg.get('peft_type')} adapter; only LoRA converts to GGUF.")
    if cfg.get("use_dora") or cfg.get("use_rslora"):
        raise TutorError("DoRA / rsLoRA adapters have no llama.cpp GGUF form; train plain LoRA to export.")
    info = base_gguf_info(base_gguf)
    arch = info["arch"]
    name_map = gguf.get_tensor_name_map(_arch_enum(arch), info["n_blocks"])
    np_dtype = np.float16 if dtype == "f16" else np.float32

    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, tensor in load_file(str(weights_path)).items():
        m = _PEFT_KEY.match(key)
        if not m:
            raise TutorError(f"unexpected tensor {key} in {weights_path}; only LoRA A/B weights can be exported.")
        pairs.setdefault(m["module"], {})[m["ab"]] = tensor.float().numpy()

    writer = gguf.GGUFWriter(str(out_path), arch)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(cfg.get("lora_alpha", cfg.get("r", 8))))
    written = 0
    for module, ab in sorted(pairs.items()):
        if set(ab) != {"A", "B"}:
            raise TutorError(f"{module} has lora_{''.join(ab)} but not both A and B.")
        base_name = name_map.get_name(module + ".weight", try_suffixes=(".weight",))
        if base_name is None or base_name not in info["tensors"]:
            raise TutorError(f"the base GGUF has no tensor for {module} (mapped to {base_name}).")
        a, b = ab["A"], ab["B"]
        if arch == "llama" and module.endswith(("q_proj", "k_proj")):
            heads = info["n_head"] if module.endswith("q_proj") else (info["n_head_kv"] or info["n_head"])
            b = _permute_rows(b, heads)
        stem = base_name[: -len(".weight")]
        writer.add_tensor(f"{stem}.weight.lora_a", np.ascontiguousarray(a.astype(np_dtype)))
        writer.add_tensor(f"{stem}.weight.lora_b", np.ascontiguousarray(b.astype(np_dtype)))
        written += 1
    if not written:
        raise TutorError(f"{adapter_dir} holds no LoRA weights.")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return {"path": str(out_path), "arch": arch, "modules": written, "alpha": cfg.get("lora_alpha"), "r": cfg.get("r"),
            "bytes": out_path.stat().st_size}


def _arch_enum(arch: str) -> Any:
    import gguf

    for enum, name in gguf.MODEL_ARCH_NAMES.items():
        if name == arch:
            return enum
    raise TutorError(f"the gguf package does not know the architecture {arch!r}.")
