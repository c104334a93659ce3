"""GGUF LoRA export: the layout llama.cpp's adapter loader reads, checked on the real tiny base."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from finetune.export import _permute_rows, base_gguf_info, export_gguf_lora
from tutor.config import Settings
from tutor.errors import TutorError


@pytest.fixture(scope="module")
def tiny_gguf():
    from tutor.llm.model_files import gguf_path

    return gguf_path("smollm2-135m", Settings(), progress=False)


def _adapter(dir_, modules, r=4, alpha=8, hidden=576, kv=192):
    dir_.mkdir()
    (dir_ / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": r, "lora_alpha": alpha}))
    gen = torch.Generator().manual_seed(0)
    tensors = {}
    for m in modules:
        out = kv if m.endswith(("k_proj", "v_proj")) else hidden
        tensors[f"base_model.model.{m}.lora_A.weight"] = torch.randn(r, hidden, generator=gen)
        tensors[f"base_model.model.{m}.lora_B.weight"] = torch.randn(out, r, generator=gen)
    save_file(tensors, str(dir_ / "adapter_model.safetensors"))
    return tensors


@pytest.mark.slow  # reads the 100 MB base GGUF: 6-12 s on the busy 2-core machine
def test_export_writes_llama_cpp_adapter_metadata_and_tensors(tmp_path, tiny_gguf):
    import gguf

    modules = ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.3.self_attn.o_proj"]
    tensors = _adapter(tmp_path / "ad", modules)
    out = tmp_path / "adapter.gguf"
    summary = export_gguf_lora(tmp_path / "ad", tiny_gguf, out)
    assert summary["modules"] == 3 and summary["arch"] == "llama"
    reader = gguf.GGUFReader(str(out))

    def kv(key):
        f = reader.fields[key]
        v = f.parts[f.data[0]]
        return bytes(v).decode() if f.types[0] == gguf.GGUFValueType.STRING else v.item()

    assert (kv("general.architecture"), kv("general.type"), kv("adapter.type")) == ("llama", "adapter", "lora")
    assert kv("adapter.lora.alpha") == 8.0
    by_name = {t.name: t for t in reader.tensors}
    assert set(by_name) == {f"blk.{b}.{n}.weight.lora_{ab}" for b, n in [(0, "attn_q"), (0, "attn_v"), (3, "attn_output")]
                            for ab in "ab"}
    # v has no rotary permutation: stored exactly as peft's B (out=192 rows, r=4 columns).
    v_b = np.asarray(by_name["blk.0.attn_v.weight.lora_b"].data).reshape(192, 4)
    np.testing.assert_array_equal(v_b, tensors["base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight"].numpy())
    # A is [r, in] as peft has it.
    q_a = np.asarray(by_name["blk.0.attn_q.weight.lora_a"].data).reshape(4, 576)
    np.testing.assert_array_equal(q_a, tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].numpy())


@pytest.mark.slow  # reads the 100 MB base GGUF: 6-12 s on the busy 2-core machine
def test_the_rotary_permutation_is_the_inverse_of_transformers_gguf_loader(tiny_gguf):
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    info = base_gguf_info(tiny_gguf)
    undo = LlamaTensorProcessor()._reverse_permute_weights
    for rows, heads in ((576, info["n_head"]), (192, info["n_head_kv"])):
        w = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3)
        np.testing.assert_array_equal(undo(_permute_rows(w, heads), heads), w)


def test_a_folder_without_an_adapter_is_one_line(tmp_path, tiny_gguf):
    with pytest.raises(TutorError, match="is not a peft LoRA adapter"):
        export_gguf_lora(tmp_path, tiny_gguf, tmp_path / "x.gguf")


@pytest.mark.slow  # reads the 100 MB base GGUF: 6-12 s on the busy 2-core machine
def test_a_module_the_base_lacks_is_refused(tmp_path, tiny_gguf):
    _adapter(tmp_path / "ad", ["model.layers.99.self_attn.q_proj"])
    with pytest.raises(TutorError, match="no tensor for model.layers.99"):
        export_gguf_lora(tmp_path / "ad", tiny_gguf, tmp_path / "x.gguf")
