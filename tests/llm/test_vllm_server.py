"""`tutor serve`: the vllm command line, the missing-vLLM error, and the health wait (on a real server)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tutor.errors import TutorError
from tutor.llm.backends.vllm_server import (
    MISSING_VLLM,
    ServerProcess,
    start_and_wait,
    vllm_available,
    vllm_command,
    wait_for_health,
)


def _adapter(tmp_path, r=8):
    d = tmp_path / "adapter"
    d.mkdir()
    (d / "adapter_config.json").write_text(json.dumps({"r": r, "peft_type": "LORA"}))
    return d


def test_command_with_adapter(tmp_path):
    adapter = _adapter(tmp_path)
    cmd = vllm_command("Qwen/Qwen2.5-1.5B-Instruct", adapter=adapter, port=8123, max_model_len=4096)
    assert cmd[:3] == ["vllm", "serve", "Qwen/Qwen2.5-1.5B-Instruct"]
    joined = " ".join(cmd)
    assert f"--enable-lora --lora-modules tutor={adapter}" in joined
    assert "--enable-auto-tool-choice --tool-call-parser hermes" in joined
    assert "--port 8123" in joined and "--max-model-len 4096" in joined
    assert "--max-lora-rank" not in joined


def test_command_without_adapter_and_with_a_big_rank(tmp_path):
    assert "--enable-lora" not in vllm_command("m")
    cmd = vllm_command("m", adapter=_adapter(tmp_path, r=48))
    assert cmd[cmd.index("--max-lora-rank") + 1] == "64"


def test_adapter_dir_must_be_a_peft_adapter(tmp_path):
    with pytest.raises(TutorError, match="adapter_config.json"):
        vllm_command("m", adapter=tmp_path)


@pytest.mark.integration
@pytest.mark.skipif(vllm_available(), reason="vLLM is installed here")
def test_serve_without_vllm_says_so_in_one_line(tutor_home):
    # A stand-in boundary: this machine has no CUDA/vLLM, so only the refusal can be checked.
    out = subprocess.run([sys.executable, "-m", "tutor.cli", "serve", "--port", "8999"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode != 0
    assert out.stderr.strip() == f"error: {MISSING_VLLM}"
    assert "dl-tutor[gpu]" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.integration
def test_serve_dry_run_prints_the_command(tutor_home, tmp_path):
    adapter = _adapter(tmp_path)
    out = subprocess.run([sys.executable, "-m", "tutor.cli", "serve", "--dry-run", "--adapter", str(adapter),
                          "--preset", "qwen2.5-7b-instruct", "--port", "8001"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("vllm serve Qwen/Qwen2.5-7B-Instruct")
    assert f"tutor={adapter}" in out.stdout and "--port 8001" in out.stdout


@pytest.mark.integration
def test_health_wait_against_the_real_llama_cpp_server(openai_server):
    took = wait_for_health(openai_server + "/models", timeout_s=30)
    assert took < 30


@pytest.mark.integration
def test_a_server_that_dies_fails_fast(tmp_path):
    from tests.llm.conftest import free_port

    t0 = time.monotonic()
    with pytest.raises(TutorError, match="exited"):
        start_and_wait([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"],
                       f"http://127.0.0.1:{free_port()}/health", log_path=tmp_path / "x.log", timeout_s=60, progress=False)
    assert time.monotonic() - t0 < 30
    assert "boom" in (tmp_path / "x.log").read_text()


@pytest.mark.integration
def test_a_server_that_never_gets_healthy_times_out_and_is_stopped(tmp_path):
    from tests.llm.conftest import free_port

    server = ServerProcess([sys.executable, "-c", "import time; time.sleep(60)"], log_path=tmp_path / "y.log")
    try:
        with pytest.raises(TutorError, match="not healthy"):
            wait_for_health(f"http://127.0.0.1:{free_port()}/health", timeout_s=1.5, interval_s=0.2, alive=server.alive)
    finally:
        server.stop(grace_s=5)
    assert not server.alive()
