"""The training configuration: one pydantic model, loaded from ``finetune/presets/NAME.yaml``.

A preset file's header comment shows the exact command that runs it. Unknown keys and out-of-range
values are refused with one line naming the key (``extra="forbid"`` + field bounds), so a typo in a
preset can never silently train with a default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tutor.errors import TutorError

PRESETS_DIR = Path(__file__).parent / "presets"


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80, pattern=r"^[\w.\-]+$",
                      description="Run name: the adapter's folder under $TUTOR_HOME/finetune/runs/.")
    # --- base model ---------------------------------------------------------------------------
    base_preset: str | None = Field(None, description="A tutor model preset whose shipped GGUF is dequantised "
                                    "(transformers gguf_file=) into the base to train on.")
    base_model: str | None = Field(None, description="Or: a hub id / local dir of full-precision weights (GPU presets).")
    quantization: Literal["nf4", "none"] = Field("nf4", description="nf4 = QLoRA (bitsandbytes 4-bit base); "
                                                 "none = LoRA on the unquantised base.")
    dtype: Literal["float32", "bfloat16"] = Field("float32", description="Compute dtype (float32 on CPU).")
    # --- LoRA ---------------------------------------------------------------------------------
    lora_r: int = Field(16, ge=1, le=512, description="LoRA rank.")
    lora_alpha: int = Field(32, ge=1, le=4096, description="LoRA scale numerator (scale = alpha / r).")
    lora_dropout: float = Field(0.05, ge=0.0, le=0.5)
    target_modules: str | list[str] = Field("all-linear", description="'all-linear' or a list of module names.")
    # --- data ---------------------------------------------------------------------------------
    data_dir: Path | None = Field(None, description="Where train.jsonl/val.jsonl are (default: "
                                  "$TUTOR_HOME/finetune/data, written by `tutor finetune data`).")
    max_train_items: int | None = Field(None, ge=1, description="Use only the first N training items.")
    max_val_items: int = Field(32, ge=0, le=100_000, description="Validation items evaluated at the end.")
    max_length: int = Field(512, ge=64, le=32768, description="Tokens per packed sequence (items longer are cut).")
    packing: bool = Field(True, description="Pack several items into one sequence (TRL best-fit packing).")
    # --- optimisation -------------------------------------------------------------------------
    max_steps: int = Field(100, ge=1, le=1_000_000)
    batch_size: int = Field(1, ge=1, le=1024, description="Sequences per device step.")
    grad_accum: int = Field(4, ge=1, le=1024, description="Steps accumulated per optimiser update.")
    learning_rate: float = Field(2e-4, gt=0, le=1.0)
    warmup_steps: int = Field(5, ge=0, le=100_000)
    weight_decay: float = Field(0.0, ge=0.0, le=1.0)
    gradient_checkpointing: bool = Field(True, description="Recompute activations in backward (less memory).")
    seed: int = Field(13)
    # --- bookkeeping --------------------------------------------------------------------------
    save_steps: int = Field(25, ge=1, description="Checkpoint every N optimiser steps (resume after a kill).")
    save_total_limit: int = Field(2, ge=1, le=100)
    logging_steps: int = Field(1, ge=1)
    threads: int | None = Field(None, ge=1, le=512, description="torch CPU threads (None = torch's default).")
    device: Literal["auto", "cpu", "cuda"] = Field("auto")

    @model_validator(mode="after")
    def _one_base(self) -> "TrainConfig":
        if (self.base_preset is None) == (self.base_model is None):
            raise ValueError("set exactly one of base_preset and base_model")
        return self

    @property
    def effective_batch(self) -> int:
        return self.batch_size * self.grad_accum


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err.get("loc", ())) or "preset"
    if err.get("type") == "extra_forbidden":
        return f"unknown key '{where}'"
    return f"{where}: {err.get('msg', 'invalid value')}"


def load_config(path: str | Path, **overrides: object) -> TrainConfig:
    """The config in a YAML preset (``overrides`` win); one-line TutorError for any problem."""
    import yaml

    path = Path(path)
    if not path.is_file():
        known = ", ".join(sorted(p.name for p in PRESETS_DIR.glob("*.yaml")))
        raise TutorError(f"no training preset at {path}; shipped presets: {known}.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise TutorError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}).") from None
    if not isinstance(data, dict):
        raise TutorError(f"{path} must be a mapping of settings, one 'key: value' a line.")
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise TutorError(f"bad training preset {path}: {_describe(exc)}.") from None
