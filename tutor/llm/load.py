"""Build the LLM the settings ask for: ``load_llm(settings)``, or the process-wide ``get_llm()``."""

from __future__ import annotations

import atexit
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from tutor.config import Settings, get_settings
from tutor.errors import TutorError
from tutor.llm.presets import get_preset

if TYPE_CHECKING:  # annotations only: importing the backends pulls llama_index (~2 s), which
    # `tutor models` (adapter_label) must not pay for
    from tutor.llm.backends.base import TutorLLM

DEFAULT_VLLM_URL = "http://127.0.0.1:8000/v1"


def load_llm(settings: Settings | None = None) -> TutorLLM:
    """A new LLM for ``settings.llm_backend`` + ``settings.llm_preset`` (a llama-index LLM)."""
    settings = settings or get_settings()
    preset = get_preset(settings.llm_preset)
    common = dict(
        context_window=settings.context_window,
        max_new_tokens=settings.max_new_tokens,
        temperature=settings.temperature,
    )
    backend = settings.llm_backend
    if backend == "llamacpp":
        from tutor.llm.backends.llamacpp import LlamaCppLLM
        from tutor.llm.model_files import gguf_path

        adapter = resolve_adapter(settings)
        return LlamaCppLLM(gguf_path(preset, settings), n_threads=settings.n_threads, model_name=preset.name,
                           lora_path=str(gguf_adapter(adapter)) if adapter else None, **common)
    if backend == "transformers":
        from tutor.llm.backends.transformers_backend import TransformersLLM
        from tutor.llm.model_files import hf_model_source

        ref, load_kwargs = hf_model_source(preset, settings)
        return TransformersLLM(
            ref, load_kwargs=load_kwargs, adapter_path=peft_adapter(resolve_adapter(settings)), model_name=preset.name,
            **common
        )
    if backend in ("openai", "vllm"):
        from tutor.llm.backends.openai_compat import OpenAICompatLLM
        from tutor.llm.backends.vllm_server import ADAPTER_MODEL_NAME

        url = settings.llm_base_url or (DEFAULT_VLLM_URL if backend == "vllm" else None)
        if not url:
            raise TutorError("the openai backend needs llm_base_url (TUTOR_LLM_BASE_URL), e.g. http://127.0.0.1:8000/v1.")
        # vLLM serves an adapter under the name "tutor"; otherwise pick the preset's model when served.
        exact = ADAPTER_MODEL_NAME if backend == "vllm" and resolve_adapter(settings) else None
        return OpenAICompatLLM(
            url, model_name=exact, preferred_model=preset.hf_repo, api_key=settings.llm_api_key, **common
        )
    raise TutorError(f"unknown llm_backend {backend!r}.")  # pragma: no cover - settings validate it


# --- adapters ------------------------------------------------------------------------------
#: The file name of the llama.cpp form of an adapter inside its folder (beside the peft files).
GGUF_ADAPTER_NAME = "adapter.gguf"


def shipped_adapter_dir(name: str) -> Path:
    """Where a shipped adapter lives: ``finetune/adapters/<name>`` of the installed project.

    Found by the package's location only (no finetune code is imported: the llm layer does not depend on it).
    """
    import importlib.util

    spec = importlib.util.find_spec("finetune")
    roots = list(spec.submodule_search_locations or []) if spec else []
    if not roots:
        raise TutorError(f"the shipped adapter {name!r} needs the finetune package of dl-tutor; reinstall the project.")
    return Path(roots[0]) / "adapters" / name


def resolve_adapter(settings: Settings) -> Path | None:
    """The adapter in use: ``adapter_path`` when set, else the preset's shipped one, none when ``use_adapter`` is off."""
    if not settings.use_adapter:
        return None
    if settings.adapter_path is not None:
        path = Path(settings.adapter_path).expanduser()
        if not path.exists():
            raise TutorError(f"adapter_path {path} does not exist.")
        return path
    if settings.llm_model_path is not None:  # an explicit model file: its adapter is the user's to name
        return None
    preset = get_preset(settings.llm_preset)
    return shipped_adapter_dir(preset.adapter) if preset.adapter else None


def adapter_label(settings: Settings) -> str | None:
    """The adapter's name as `tutor models` and `ask --json` show it (its folder or file name)."""
    try:
        path = resolve_adapter(settings)
    except TutorError:
        return None
    if path is None:
        return None
    return path.stem if path.suffix == ".gguf" else path.name


def gguf_adapter(adapter: Path) -> Path:
    """The llama.cpp (GGUF LoRA) form of an adapter: the file itself, or ``adapter.gguf`` in its folder."""
    if adapter.is_file():
        if adapter.suffix != ".gguf":
            raise TutorError(f"adapter {adapter} is not a GGUF LoRA; the llama.cpp backend needs one (tutor finetune export).")
        return adapter
    path = adapter / GGUF_ADAPTER_NAME
    if not path.is_file():
        raise TutorError(f"adapter {adapter} has no {GGUF_ADAPTER_NAME} for llama.cpp; write it with `tutor finetune export`.")
    return path


def peft_adapter(adapter: Path | None) -> Path | None:
    """The peft form (a folder with adapter_config.json) for transformers and vLLM."""
    if adapter is None:
        return None
    if adapter.is_file():
        raise TutorError(f"adapter {adapter} is a single file; the transformers and vLLM backends need the peft folder.")
    return adapter


_cache: dict[tuple, TutorLLM] = {}
_cache_lock = threading.Lock()


def reset_llm() -> None:
    """Drop the process-wide LLM (the next get_llm() loads afresh)."""
    with _cache_lock:
        _cache.clear()


# Free the model while the interpreter is still whole: llama-cpp-python's finaliser fails noisily
# when it only runs during module teardown.
atexit.register(reset_llm)


def _key(settings: Settings) -> tuple:
    fields = ("llm_backend", "llm_preset", "llm_base_url", "llm_model_path", "adapter_path", "use_adapter", "context_window",
              "max_new_tokens", "temperature", "n_threads", "home")
    return tuple(str(getattr(settings, f)) for f in fields)


def get_llm() -> TutorLLM:
    """The process-wide LLM for the current settings, loaded once (thread-safe)."""
    settings = get_settings()
    key = _key(settings)
    with _cache_lock:
        llm = _cache.get(key)
        if llm is None:
            _cache.clear()  # settings changed: let the old model go
            llm = _cache[key] = load_llm(settings)
        return llm
