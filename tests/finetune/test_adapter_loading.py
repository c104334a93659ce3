"""Which adapter the tutor runs with (tutor/llm/load.py) and how each face names it."""

from __future__ import annotations

import json

import pytest

from tutor.config import Settings
from tutor.errors import TutorError
from tutor.llm import load
from tutor.llm.presets import PRESETS


def _gguf_lora(path):
    path.write_bytes(b"GGUF")  # resolution only looks at names; llama.cpp reads the contents
    return path


def test_no_adapter_by_default_unless_the_preset_ships_one(tutor_home):
    settings = Settings()
    shipped = PRESETS[settings.llm_preset].adapter
    if shipped:
        assert load.resolve_adapter(settings) == load.shipped_adapter_dir(shipped)
        assert load.adapter_label(settings) == shipped
    else:
        assert load.resolve_adapter(settings) is None and load.adapter_label(settings) is None
    assert load.resolve_adapter(Settings(use_adapter=False)) is None


def test_adapter_path_wins_and_use_adapter_turns_it_off(tutor_home):
    lora = _gguf_lora(tutor_home / "tutor-lora.gguf")
    assert load.resolve_adapter(Settings(adapter_path=lora)) == lora
    assert load.adapter_label(Settings(adapter_path=lora)) == "tutor-lora"
    assert load.gguf_adapter(lora) == lora
    assert load.resolve_adapter(Settings(adapter_path=lora, use_adapter=False)) is None


def test_a_folder_gives_llama_cpp_its_adapter_gguf_and_transformers_the_peft_files(tutor_home):
    folder = tutor_home / "my-adapter"
    folder.mkdir()
    with pytest.raises(TutorError, match="has no adapter.gguf for llama.cpp; write it with `tutor finetune export`"):
        load.gguf_adapter(folder)
    gguf = _gguf_lora(folder / load.GGUF_ADAPTER_NAME)
    assert load.gguf_adapter(folder) == gguf
    assert load.peft_adapter(folder) == folder
    with pytest.raises(TutorError, match="need the peft folder"):
        load.peft_adapter(gguf)


def test_a_missing_adapter_is_one_line(tutor_home):
    with pytest.raises(TutorError, match="does not exist") as err:
        load.resolve_adapter(Settings(adapter_path=tutor_home / "nope"))
    assert "\n" not in str(err.value)
    assert load.adapter_label(Settings(adapter_path=tutor_home / "nope")) is None


def test_shipped_adapters_live_in_the_finetune_package():
    assert load.shipped_adapter_dir("x").parts[-3:] == ("finetune", "adapters", "x")
    for preset in PRESETS.values():
        if preset.adapter:  # a preset may only name an adapter that ships whole
            folder = load.shipped_adapter_dir(preset.adapter)
            assert (folder / "adapter.gguf").is_file() and (folder / "adapter_config.json").is_file()
            assert (folder / "MODEL_CARD.md").is_file()


def test_llama_cpp_refuses_a_missing_lora_file_in_one_line(tutor_home):
    from tutor.llm.backends.llamacpp import LlamaCppLLM
    from tutor.llm.model_files import gguf_path

    with pytest.raises(TutorError, match="LoRA adapter .* does not exist"):
        LlamaCppLLM(gguf_path("smollm2-135m", Settings(), progress=False), lora_path=str(tutor_home / "x.gguf"),
                    n_threads=1, model_name="t")


def test_tutor_models_names_the_adapter(tutor_home, monkeypatch, capsys):
    from tutor.commands.llm import models_command
    from tutor.config import get_settings

    lora = _gguf_lora(tutor_home / "tutor-lora.gguf")
    monkeypatch.setenv("TUTOR_ADAPTER_PATH", str(lora))
    get_settings.cache_clear()
    models_command(as_json=True)
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["qwen2.5-coder-0.5b"]["adapter"] == "tutor-lora"
    monkeypatch.setenv("TUTOR_USE_ADAPTER", "false")
    get_settings.cache_clear()
    models_command(as_json=True)
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["qwen2.5-coder-0.5b"]["adapter"] is None


def test_ask_json_has_the_adapter_field(tutor_home, monkeypatch):
    from types import SimpleNamespace

    from tutor.commands.ask import answer_json
    from tutor.config import get_settings

    answer = SimpleNamespace(text="t", citations=[], sources=[], model="m", latency_s=0.1, session_id="s",
                             mode="explain", tool_calls=[], extra={})
    lora = _gguf_lora(tutor_home / "tutor-lora.gguf")
    monkeypatch.setenv("TUTOR_ADAPTER_PATH", str(lora))
    get_settings.cache_clear()
    assert answer_json(answer)["adapter"] == "tutor-lora"
    monkeypatch.setenv("TUTOR_USE_ADAPTER", "0")
    get_settings.cache_clear()
    assert answer_json(answer)["adapter"] is None
