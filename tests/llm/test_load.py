"""load_llm / get_llm pick the backend and preset from settings."""

from __future__ import annotations

import pytest

from tutor.config import Settings, get_settings
from tutor.errors import TutorError
from tutor.llm.load import get_llm, load_llm


def test_load_llm_builds_the_llamacpp_backend_for_the_tiny_preset(tutor_home):
    from tutor.llm.backends.llamacpp import LlamaCppLLM

    llm = load_llm(Settings(llm_preset="smollm2-135m", context_window=1024, max_new_tokens=7, temperature=0.3))
    assert isinstance(llm, LlamaCppLLM)
    assert (llm.context_window, llm.max_new_tokens, llm.temperature) == (1024, 7, 0.3)
    assert llm.metadata.model_name == "smollm2-135m"


def test_get_llm_is_cached_until_settings_change(tutor_home, monkeypatch):
    monkeypatch.setenv("TUTOR_LLM_PRESET", "smollm2-135m")
    monkeypatch.setenv("TUTOR_CONTEXT_WINDOW", "1024")
    get_settings.cache_clear()
    first = get_llm()
    assert get_llm() is first
    monkeypatch.setenv("TUTOR_MAX_NEW_TOKENS", "5")
    get_settings.cache_clear()
    second = get_llm()
    assert second is not first and second.max_new_tokens == 5


def test_openai_backend_needs_a_url(tutor_home):
    with pytest.raises(TutorError, match="llm_base_url"):
        load_llm(Settings(llm_backend="openai"))


def test_vllm_backend_targets_the_adapter_name(tutor_home, tmp_path):
    from tutor.llm.backends.openai_compat import OpenAICompatLLM

    llm = load_llm(Settings(llm_backend="vllm", adapter_path=tmp_path))
    assert isinstance(llm, OpenAICompatLLM)
    assert llm.base_url == "http://127.0.0.1:8000/v1" and llm.model_name == "tutor"
    plain = load_llm(Settings(llm_backend="vllm", llm_base_url="http://127.0.0.2:9000/v1/"))
    assert plain.base_url == "http://127.0.0.2:9000/v1" and plain.preferred_model == "Qwen/Qwen2.5-Coder-0.5B-Instruct"


@pytest.mark.integration
def test_openai_backend_from_settings_talks_to_the_server(tutor_home, openai_server):
    llm = load_llm(Settings(llm_backend="openai", llm_base_url=openai_server, llm_preset="smollm2-135m",
                            max_new_tokens=4))
    assert llm.complete("Hello", formatted=True).text is not None
