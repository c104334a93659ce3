"""`tutor finetune train`: QLoRA (or LoRA) SFT of a tutor adapter with TRL, one recipe class.

    recipe = TrainRecipe(load_config("finetune/presets/smoke-smollm2-135m.yaml"))
    recipe.setup()      # base model (4-bit nf4 via bitsandbytes, or plain), tokenizer, rendered data
    recipe.train()      # TRL SFTTrainer + peft LoRA on all linear layers; resumes from the last checkpoint
    recipe.save()       # the adapter (peft files) + train_meta.json
    recipe.cleanup()

The base of a ``base_preset`` is the tutor's own shipped GGUF, dequantised by transformers
(``gguf_file=``); no hub download. Items are rendered with the base's chat template, exactly as the
llama.cpp backend renders a run-time prompt, and only the reply tokens carry loss.
"""

from __future__ import annotations

import json
import logging
import math
import time
import warnings
from pathlib import Path
from typing import Any

from finetune.config import TrainConfig
from finetune.data import TOOL_SPECS_FILE, Item, load_items
from tutor.config import Settings, get_settings
from tutor.errors import TutorError

log = logging.getLogger("tutor.finetune")


def runs_root(settings: Settings) -> Path:
    return settings.home / "finetune" / "runs"


def data_root(settings: Settings) -> Path:
    return settings.home / "finetune" / "data"


def tensorboard_callback(log_dir: Path) -> Any:
    """transformers' TensorBoard callback, writing every event under ``log_dir``.

    transformers 5 has no ``logging_dir`` argument: the callback picks ``<output_dir>/runs/<time>``
    when training begins, and an evaluation logged before that (the loss before training) opens a
    writer with no directory, which torch puts in ``./runs`` of the current working directory.
    Setting the callback's own ``logging_dir`` (what ``TENSORBOARD_LOGGING_DIR`` sets, without
    changing the process environment) sends both to the run's folder.
    """
    from transformers.integrations import TensorBoardCallback

    callback = TensorBoardCallback()
    callback.logging_dir = str(log_dir)
    return callback


def base_source(cfg: TrainConfig, settings: Settings) -> tuple[str, dict[str, Any]]:
    """(dir or hub id, from_pretrained kwargs) of the base; a TutorError when its files are missing."""
    if cfg.base_preset:
        from tutor.llm.model_files import gguf_path
        from tutor.llm.presets import get_preset

        gguf = gguf_path(get_preset(cfg.base_preset), settings.model_copy(update={"llm_model_path": None}))
        return str(dequantised_base(gguf, settings.home / "finetune" / "bases" / cfg.base_preset)), {}
    ref = str(cfg.base_model)
    if Path(ref).expanduser().exists():
        return str(Path(ref).expanduser()), {}
    from tutor.llm.presets import hub_offline

    if hub_offline():
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            return snapshot_download(ref, local_files_only=True), {}
        except LocalEntryNotFoundError:
            raise TutorError(f"base model {ref} is not in the local Hugging Face cache and the hub is offline.") from None
    return ref, {}


def dequantised_base(gguf: Path, out: Path) -> Path:
    """The GGUF dequantised once into a transformers dir (safetensors + tokenizer), reused afterwards.

    transformers refuses a quantization_config together with ``gguf_file=``, so QLoRA needs the
    dequantised weights on disk first; LoRA runs reuse the same dir (loading it is faster than the
    GGUF again). Written to a temp dir and renamed, so a kill never leaves half a base.
    """
    import shutil

    if (out / "config.json").is_file():
        return out
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # The loaded weights are plain tensors; only the "gguf" quantizer tag blocks save_pretrained.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(tmp))
    tok.save_pretrained(str(tmp))
    (tmp / "SOURCE_GGUF").write_text(str(gguf))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def render_item(item: Item, tokenizer: Any, tools: list[dict] | None) -> dict[str, str]:
    """``{"prompt", "completion"}`` text of one item in the base's chat template (what llama.cpp sends)."""
    from tutor.llm.backends.tool_prompt import inline_tools

    messages = item.messages
    specs = tools if item.tools else None
    if specs and "tools" not in (tokenizer.chat_template or ""):
        messages, specs = inline_tools(messages, specs), None  # same fallback as the llama.cpp backend
    kw = {"tools": specs} if specs else {}
    prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True, **kw)
    full = tokenizer.apply_chat_template(messages, tokenize=False, **kw)
    if not full.startswith(prompt):  # a template that rewrites earlier turns: cannot split cleanly
        raise TutorError(f"the chat template renders item {item.id} inconsistently; cannot train on it.")
    completion = full[len(prompt):]
    return {"prompt": prompt, "completion": completion.rstrip("\n")}


class TrainRecipe:
    """setup → train → save → cleanup; every step readable top to bottom."""

    def __init__(self, cfg: TrainConfig, settings: Settings | None = None, *, progress: bool = True):
        self.cfg = cfg
        self.settings = settings or get_settings()
        self.progress = progress
        self.out_dir = runs_root(self.settings) / cfg.name
        self.trainer: Any = None
        self.tokenizer: Any = None
        self.started = 0.0
        self.resumed_from: str | None = None

    # -- setup ------------------------------------------------------------------------------
    def setup(self) -> None:
        import torch
        from datasets import Dataset
        from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

        cfg = self.cfg
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        if cfg.device == "cuda" and not torch.cuda.is_available():
            raise TutorError(f"preset {cfg.name} needs a CUDA GPU and none is visible.")
        data_dir = cfg.data_dir or data_root(self.settings)
        train_items = load_items(Path(data_dir) / "train.jsonl")[: cfg.max_train_items]
        val_path = Path(data_dir) / "val.jsonl"
        val_items = load_items(val_path)[: cfg.max_val_items] if cfg.max_val_items and val_path.is_file() else []

        ref, kw = base_source(cfg, self.settings)
        dtype = torch.bfloat16 if cfg.dtype == "bfloat16" else torch.float32
        if cfg.quantization == "nf4":
            kw["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype,
                bnb_4bit_use_double_quant=True,
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # gguf dequantisation and bnb CPU-kernel notices: to the log only
            try:
                self.tokenizer = AutoTokenizer.from_pretrained(ref)
                model = AutoModelForCausalLM.from_pretrained(ref, dtype=dtype, **kw)
            except OSError as exc:
                raise TutorError(f"cannot load the base model {ref}: {str(exc).splitlines()[0]}") from None
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        tools = json.loads(TOOL_SPECS_FILE.read_text())
        train_rows = self._fitting([render_item(it, self.tokenizer, tools) for it in train_items], "train")
        val_rows = self._fitting([render_item(it, self.tokenizer, tools) for it in val_items], "val")
        self.trainer = self._trainer(model, Dataset.from_list(train_rows),
                                     Dataset.from_list(val_rows) if val_rows else None)

    def _fitting(self, rows: list[dict[str, str]], split: str) -> list[dict[str, str]]:
        """Rows whose prompt + reply fit in max_length: a cut item would lose its reply (the only loss)."""
        tok = self.tokenizer
        kept = [r for r in rows if len(tok(r["prompt"] + r["completion"])["input_ids"]) < self.cfg.max_length]
        log.info("%s: %d of %d items fit in %d tokens", split, len(kept), len(rows), self.cfg.max_length)
        if rows and not kept:
            raise TutorError(f"no {split} item fits in max_length={self.cfg.max_length} tokens; raise it.")
        self.skipped = getattr(self, "skipped", {}) | {split: len(rows) - len(kept)}
        return kept

    def _trainer(self, model: Any, train_ds: Any, val_ds: Any) -> Any:
        from peft import LoraConfig
        from trl import SFTConfig, SFTTrainer

        cfg = self.cfg
        import torch

        on_cuda = cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())
        args = SFTConfig(
            output_dir=str(self.out_dir),
            max_steps=cfg.max_steps,
            per_device_train_batch_size=cfg.batch_size,
            per_device_eval_batch_size=cfg.batch_size,
            gradient_accumulation_steps=cfg.grad_accum,
            learning_rate=cfg.learning_rate,
            warmup_steps=cfg.warmup_steps,
            weight_decay=cfg.weight_decay,
            lr_scheduler_type="cosine",
            max_length=cfg.max_length,
            packing=cfg.packing,
            completion_only_loss=True,
            gradient_checkpointing=cfg.gradient_checkpointing,
            logging_steps=cfg.logging_steps,
            save_steps=cfg.save_steps,
            save_total_limit=cfg.save_total_limit,
            report_to=[],  # TensorBoard comes from tensorboard_callback(), pointed at the run's folder
            seed=cfg.seed,
            bf16=on_cuda and cfg.dtype == "bfloat16",
            use_cpu=not on_cuda,
            disable_tqdm=not self.progress,
            dataloader_num_workers=0,
            eval_strategy="no",
        )
        peft_config = LoraConfig(
            r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
            target_modules=cfg.target_modules, task_type="CAUSAL_LM",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return SFTTrainer(model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds,
                              processing_class=self.tokenizer, peft_config=peft_config,
                              callbacks=[tensorboard_callback(self.out_dir / "tensorboard")])

    # -- train ------------------------------------------------------------------------------
    def last_checkpoint(self) -> str | None:
        from transformers.trainer_utils import get_last_checkpoint

        return get_last_checkpoint(str(self.out_dir)) if self.out_dir.is_dir() else None

    def train(self) -> dict[str, Any]:
        assert self.trainer is not None, "call setup() first"
        self.resumed_from = self.last_checkpoint()
        self.started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = self.trainer.train(resume_from_checkpoint=self.resumed_from)
            except KeyboardInterrupt:
                last = self.last_checkpoint()
                where = f"; the last checkpoint is {last}" if last else ""
                raise TutorError(f"training interrupted{where}; run the same command again to resume.") from None
        return dict(result.metrics)

    def evaluate(self) -> float | None:
        """Mean validation loss (reply tokens only), or None without validation items."""
        if self.trainer.eval_dataset is None:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(self.trainer.evaluate()["eval_loss"])

    # -- save -------------------------------------------------------------------------------
    def save(self, metrics: dict[str, Any] | None = None) -> Path:
        """The peft adapter under ``<run>/adapter`` and a ``train_meta.json`` beside it."""
        adapter_dir = self.out_dir / "adapter"
        self.trainer.model.save_pretrained(str(adapter_dir))
        losses = [h["loss"] for h in self.trainer.state.log_history if "loss" in h]
        ref, kw = base_source(self.cfg, self.settings)
        meta = {
            "config": self.cfg.model_dump(mode="json"),
            "base": {"ref": ref, "preset": self.cfg.base_preset, "model": self.cfg.base_model},
            "steps": self.trainer.state.global_step,
            "loss_first": losses[0] if losses else None,
            "loss_last": losses[-1] if losses else None,
            "losses": losses,
            "resumed_from": self.resumed_from,
            "train_seconds": round(time.perf_counter() - self.started, 1) if self.started else None,
            "metrics": metrics or {},
        }
        (self.out_dir / "train_meta.json").write_text(json.dumps(meta, indent=1))
        return adapter_dir

    def cleanup(self) -> None:
        import gc

        self.trainer = None
        gc.collect()


def run(cfg: TrainConfig, settings: Settings | None = None, *, progress: bool = True) -> dict[str, Any]:
    """The whole recipe; returns the run's summary (adapter dir, losses, validation loss)."""
    recipe = TrainRecipe(cfg, settings, progress=progress)
    try:
        recipe.setup()
        metrics = recipe.train()
        val = recipe.evaluate()
        if val is not None and math.isfinite(val):
            metrics["val_loss"] = val
        adapter = recipe.save(metrics)
        meta = json.loads((recipe.out_dir / "train_meta.json").read_text())
        return {"adapter": str(adapter), "steps": meta["steps"], "loss_first": meta["loss_first"],
                "loss_last": meta["loss_last"], "val_loss": metrics.get("val_loss"),
                "resumed_from": meta["resumed_from"]}
    finally:
        recipe.cleanup()
