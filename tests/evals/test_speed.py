"""The speed suite: routing latency with the real router (the LLM part is timed in the slow tier)."""

from __future__ import annotations

import json

import pytest

from evals.__main__ import main


@pytest.mark.slow
def test_routing_and_generation_are_timed(tmp_path):
    rc = main(["speed", "--parts", "routing", "llm", "--limit", "2", "--model", "smollm2-135m",
               "--out", str(tmp_path), "--no-gate", "--no-progress"])
    report = json.loads((tmp_path / "speed.json").read_text())
    m = report["metrics"]
    assert rc == 0 and report["n"] == 4  # two generations, two routings
    assert m["routing_ms_p50"] > 0 and m["ttft_s_p50"] > 0 and m["decode_tok_s_p50"] > 0
