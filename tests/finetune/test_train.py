"""The real thing, on the tiny model: 4-bit QLoRA for a few steps on CPU, then both backends load the adapter.

Slow tier: loads SmolLM2-135M three times (bitsandbytes nf4 for training, transformers+peft, llama.cpp).
"""

from __future__ import annotations

import json

import pytest

from finetune.config import PRESETS_DIR, load_config
from finetune.data import BuildConfig, Passage, build
from finetune.export import export_gguf_lora
from finetune.train import TrainRecipe

pytestmark = pytest.mark.slow

PASSAGES = [
    Passage(text=f"The tutor's secret word for lesson {i} is `zebra{i}`. Lesson {i} covers topic number {i}.",
            source=f"paper:s{i}", title=f"Lesson {i}", section="Key idea")
    for i in range(1, 9)
]
PROMPT = [{"role": "user", "content": "What is the secret word for lesson 3?"}]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tutor.config import Settings

    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home)
    data_dir = home / "data"
    build(data_dir, BuildConfig(n_passages=1, tool_items=0, abstain_every=4, guide_every=4), passages=PASSAGES,
          reference_dirs=[])
    # Validation = the training items: the check is that training lowers the loss on what it saw.
    (data_dir / "val.jsonl").write_text((data_dir / "train.jsonl").read_text())
    cfg = load_config(PRESETS_DIR / "smoke-smollm2-135m.yaml", data_dir=data_dir, max_steps=8, save_steps=4,
                      max_val_items=4, learning_rate=3e-3)
    recipe = TrainRecipe(cfg, settings, progress=False)
    recipe.setup()
    assert recipe.cfg.quantization == "nf4"
    assert type(recipe.trainer.model.base_model.model.model.layers[0].self_attn.q_proj.base_layer).__name__ == "Linear4bit"
    before = recipe.evaluate()
    recipe.train()
    after = recipe.evaluate()
    adapter = recipe.save()
    recipe.cleanup()
    return {"settings": settings, "cfg": cfg, "before": before, "after": after, "adapter": adapter,
            "run_dir": adapter.parent}


def test_qlora_lowers_the_loss_and_keeps_checkpoints(trained):
    assert trained["after"] < trained["before"]
    assert sorted(p.name for p in trained["run_dir"].glob("checkpoint-*")) == ["checkpoint-4", "checkpoint-8"]
    meta = json.loads((trained["run_dir"] / "train_meta.json").read_text())
    assert meta["steps"] == 8 and meta["config"]["quantization"] == "nf4"
    assert list((trained["run_dir"] / "tensorboard").glob("events.out.tfevents.*"))  # TensorBoard logs


def test_the_adapter_loads_in_both_backends_and_changes_the_output(trained, tmp_path):
    """Both backends load the adapter and answer with it; in both engines it moves the next-token
    logits (eight tiny steps need not flip a greedy token, so the logits are what is compared)."""
    import numpy as np
    import torch
    from llama_cpp import Llama
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tutor.llm.backends.llamacpp import LlamaCppLLM
    from tutor.llm.backends.transformers_backend import TransformersLLM
    from tutor.llm.model_files import gguf_path

    base_gguf = gguf_path("smollm2-135m", trained["settings"], progress=False)
    gguf_lora = tmp_path / "adapter.gguf"
    export_gguf_lora(trained["adapter"], base_gguf, gguf_lora)
    bases = trained["settings"].home / "finetune" / "bases" / "smollm2-135m"

    # The tutor's backends load it and answer.
    for llm in (LlamaCppLLM(base_gguf, n_threads=1, model_name="t", max_new_tokens=8, temperature=0.0,
                            lora_path=str(gguf_lora)),
                TransformersLLM(str(bases), adapter_path=str(trained["adapter"]), model_name="t", max_new_tokens=8,
                                temperature=0.0)):
        assert _chat(llm).strip()
        if hasattr(llm, "close"):
            llm.close()

    tok = AutoTokenizer.from_pretrained(str(bases))
    prompt = tok.apply_chat_template(PROMPT, tokenize=False, add_generation_prompt=True)

    # llama.cpp: the GGUF LoRA changes the logits of the next token.
    def cpp_logits(lora: str | None) -> np.ndarray:
        llama = Llama(model_path=str(base_gguf), lora_path=lora, logits_all=True, n_threads=1, verbose=False)
        tokens = llama.tokenize(prompt.encode(), add_bos=False, special=True)
        llama.eval(tokens)
        out = np.array(llama.scores[len(tokens) - 1])
        llama.close()
        return out

    assert np.abs(cpp_logits(str(gguf_lora)) - cpp_logits(None)).max() > 1e-3

    # transformers + peft: the same.
    ids = tok(prompt, return_tensors="pt")
    with torch.no_grad():
        base_logits = AutoModelForCausalLM.from_pretrained(str(bases))(**ids).logits[0, -1]
        tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(bases)), str(trained["adapter"]))
        peft_logits = tuned(**ids).logits[0, -1]
    assert (peft_logits - base_logits).abs().max().item() > 1e-3


def _chat(llm) -> str:
    from llama_index.core.base.llms.types import ChatMessage

    return llm.chat([ChatMessage(role=m["role"], content=m["content"]) for m in PROMPT]).message.content or ""


def test_a_second_run_resumes_from_the_last_checkpoint(trained):
    cfg = trained["cfg"].model_copy(update={"max_steps": 10, "max_val_items": 0})
    recipe = TrainRecipe(cfg, trained["settings"], progress=False)
    recipe.setup()
    assert recipe.last_checkpoint().endswith("checkpoint-8")
    recipe.train()
    assert recipe.resumed_from.endswith("checkpoint-8")
    assert recipe.trainer.state.global_step == 10
    recipe.cleanup()
