"""Build the LLM the settings ask for: ``load_llm(settings)``, or the process-wide ``get_llm()``."""

from __future__ import annotations

import atexit
import threading

from tutor.config import Settings, get_settings
from tutor.errors import TutorError
from tutor.llm.backends.base import TutorLLM
from tutor.llm.presets import get_preset

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

        return LlamaCppLLM(gguf_path(preset, settings), n_threads=settings.n_threads, model_name=preset.name, **common)
    if backend == "transformers":
        from tutor.llm.backends.transformers_backend import TransformersLLM
        from tutor.llm.model_files import hf_model_source

        ref, load_kwargs = hf_model_source(preset, settings)
        return TransformersLLM(
            ref, load_kwargs=load_kwargs, adapter_path=settings.adapter_path, model_name=preset.name, **common
        )
    if backend in ("openai", "vllm"):
        from tutor.llm.backends.openai_compat import OpenAICompatLLM
        from tutor.llm.backends.vllm_server import ADAPTER_MODEL_NAME

        url = settings.llm_base_url or (DEFAULT_VLLM_URL if backend == "vllm" else None)
        if not url:
            raise TutorError("the openai backend needs llm_base_url (TUTOR_LLM_BASE_URL), e.g. http://127.0.0.1:8000/v1.")
        # vLLM serves an adapter under the name "tutor"; otherwise pick the preset's model when served.
        exact = ADAPTER_MODEL_NAME if backend == "vllm" and settings.adapter_path else None
        return OpenAICompatLLM(
            url, model_name=exact, preferred_model=preset.hf_repo, api_key=settings.llm_api_key, **common
        )
    raise TutorError(f"unknown llm_backend {backend!r}.")  # pragma: no cover - settings validate it


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
    fields = ("llm_backend", "llm_preset", "llm_base_url", "llm_model_path", "adapter_path", "context_window",
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
