"""Training presets: every shipped file validates and shows its command; bad files get one line."""

from __future__ import annotations

import pytest

from finetune.config import PRESETS_DIR, TrainConfig, load_config
from tutor.errors import TutorError

SHIPPED = sorted(PRESETS_DIR.glob("*.yaml"))


def test_the_four_presets_ship():
    names = {p.name for p in SHIPPED}
    assert {"smoke-smollm2-135m.yaml", "qwen2.5-coder-0.5b.yaml", "qwen2.5-1.5b-gpu.yaml", "qwen2.5-7b-gpu.yaml"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_each_preset_validates_and_its_header_shows_the_command(path):
    cfg = load_config(path)
    assert isinstance(cfg, TrainConfig)
    header = [line for line in path.read_text().splitlines() if line.startswith("#")]
    assert any(f"tutor finetune train --config finetune/presets/{path.name}" in line for line in header)


def test_the_smoke_preset_is_real_qlora_on_the_tiny_model():
    cfg = load_config(PRESETS_DIR / "smoke-smollm2-135m.yaml")
    assert cfg.quantization == "nf4" and cfg.base_preset == "smollm2-135m" and cfg.max_steps <= 20


@pytest.mark.parametrize(("body", "message"), [
    ("name: x\nbase_preset: smollm2-135m\nlora_rr: 8\n", "unknown key 'lora_rr'"),
    ("name: x\nbase_preset: smollm2-135m\nlearning_rate: 5\n", "learning_rate: Input should be less than or equal to 1"),
    ("name: x\nbase_preset: smollm2-135m\nbase_model: a/b\n", "set exactly one of base_preset and base_model"),
    ("name: x\nbase_preset: [unclosed\n", "is not valid YAML"),
    ("- a\n- b\n", "must be a mapping"),
])
def test_a_bad_preset_is_one_line(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(TutorError) as err:
        load_config(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_missing_preset_names_the_shipped_ones(tmp_path):
    with pytest.raises(TutorError, match="smoke-smollm2-135m.yaml"):
        load_config(tmp_path / "nope.yaml")


def test_overrides_win_and_are_validated():
    cfg = load_config(PRESETS_DIR / "smoke-smollm2-135m.yaml", max_steps=2, quantization="none")
    assert (cfg.max_steps, cfg.quantization) == (2, "none")
    with pytest.raises(TutorError, match="quantization"):
        load_config(PRESETS_DIR / "smoke-smollm2-135m.yaml", quantization="int3")
