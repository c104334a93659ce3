"""Preset registry and the offline errors for hub presets."""

from __future__ import annotations

import pytest

from tutor.config import Settings
from tutor.errors import OfflineError, TutorError
from tutor.llm.load import load_llm
from tutor.llm.presets import DEFAULT_PRESET, PRESETS, get_preset, offline_preset_names


def test_default_preset_is_the_chunked_qwen(tutor_home):
    preset = get_preset(DEFAULT_PRESET)
    assert preset.source == "chunked-wheels" and preset.gguf_parts is not None
    assert preset.gguf_parts.size == 491_400_064
    assert [p[-1] for p in preset.gguf_parts.packages] == list("123456")
    assert Settings().llm_preset == DEFAULT_PRESET


def test_offline_presets_are_the_shipped_ones():
    assert set(offline_preset_names()) == {"qwen2.5-coder-0.5b", "smollm2-135m"}
    assert {n for n, p in PRESETS.items() if p.source == "hub"} == {"qwen2.5-1.5b-instruct", "qwen2.5-7b-instruct"}


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(TutorError) as err:
        get_preset("gpt-5")
    msg = str(err.value)
    assert "gpt-5" in msg and "smollm2-135m" in msg and "\n" not in msg


@pytest.mark.parametrize("backend", ["llamacpp", "transformers"])
def test_hub_preset_offline_names_offline_presets(backend, tutor_home, tmp_path, monkeypatch):
    # An empty HF cache: the hub preset cannot be in it.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    import huggingface_hub.constants as hc

    monkeypatch.setattr(hc, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setattr(hc, "HF_HUB_OFFLINE", True)
    settings = Settings(llm_preset="qwen2.5-1.5b-instruct", llm_backend=backend)
    with pytest.raises(OfflineError) as err:
        load_llm(settings)
    msg = str(err.value)
    assert "qwen2.5-1.5b-instruct" in msg
    assert "qwen2.5-coder-0.5b" in msg and "smollm2-135m" in msg
