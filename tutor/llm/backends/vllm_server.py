"""Start a vLLM OpenAI-compatible server for a preset (+ LoRA adapter) and wait until it is healthy.

The tutor then talks to it through ``OpenAICompatLLM`` (the "vllm" backend): the served model is
called ``tutor`` when an adapter is given (vLLM's ``--lora-modules tutor=ADAPTER`` name), else
the preset's hub id. Tool calls use vLLM's own ``hermes`` parser, which reads Qwen's
``<tool_call>`` format.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tutor.errors import TutorError

ADAPTER_MODEL_NAME = "tutor"
DEFAULT_PORT = 8000
# vLLM's LoRA kernels are built for these ranks; --max-lora-rank must be one of them.
_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)

MISSING_VLLM = "vLLM needs a CUDA machine: install it there with pip install 'dl-tutor[gpu]'."


def vllm_available() -> bool:
    return importlib.util.find_spec("vllm") is not None or shutil.which("vllm") is not None


def require_vllm() -> None:
    if not vllm_available():
        raise TutorError(MISSING_VLLM)


def adapter_rank(adapter: Path) -> int | None:
    """The LoRA rank ``r`` in a PEFT adapter's config, if readable."""
    try:
        return int(json.loads((adapter / "adapter_config.json").read_text())["r"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def vllm_command(
    model: str,
    *,
    adapter: Path | None = None,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    max_model_len: int | None = None,
    extra_args: list[str] | None = None,
) -> list[str]:
    """The ``vllm serve`` command line for ``model`` (hub id or dir) with an optional LoRA adapter."""
    cmd = ["vllm", "serve", model, "--host", host, "--port", str(port)]
    cmd += ["--enable-auto-tool-choice", "--tool-call-parser", "hermes"]
    if max_model_len:
        cmd += ["--max-model-len", str(max_model_len)]
    if adapter is not None:
        adapter = Path(adapter).expanduser()
        if not (adapter / "adapter_config.json").is_file():
            raise TutorError(f"{adapter} is not a PEFT adapter directory (no adapter_config.json).")
        cmd += ["--enable-lora", "--lora-modules", f"{ADAPTER_MODEL_NAME}={adapter}"]
        rank = adapter_rank(adapter)
        if rank and rank > 16:  # vLLM's default max rank is 16; a larger adapter must say so
            cmd += ["--max-lora-rank", str(next((r for r in _LORA_RANKS if r >= rank), rank))]
    return cmd + list(extra_args or [])


def wait_for_health(
    url: str,
    *,
    timeout_s: float = 600.0,
    interval_s: float = 0.5,
    alive: Callable[[], bool] | None = None,
    on_wait: Callable[[float], None] | None = None,
) -> float:
    """Poll ``url`` until it answers 200; return the seconds it took.

    ``alive`` (e.g. "the server process is still running") is checked each round so a crashed
    server fails fast instead of after the timeout; ``on_wait(elapsed)`` drives a progress display.
    """
    start = time.monotonic()
    with httpx.Client(timeout=5.0) as client:
        while True:
            elapsed = time.monotonic() - start
            if alive is not None and not alive():
                raise TutorError(f"the model server exited before it became healthy ({url}).")
            try:
                if client.get(url).status_code == 200:
                    return elapsed
            except httpx.HTTPError:
                pass
            if elapsed > timeout_s:
                raise TutorError(f"the model server at {url} was not healthy after {timeout_s:.0f} s.")
            if on_wait is not None:
                on_wait(elapsed)
            time.sleep(interval_s)


class ServerProcess:
    """A model server child process with its log file; stop() ends it (TERM, then KILL)."""

    def __init__(self, cmd: list[str], *, log_path: Path, env: dict | None = None) -> None:
        self.cmd = cmd
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("ab")
        try:
            # Own process group: Ctrl-C in the terminal reaches us, and stop() ends the whole tree.
            self.proc = subprocess.Popen(
                cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        except FileNotFoundError:
            self._log.close()
            raise TutorError(f"could not start {cmd[0]!r}: it is not installed.") from None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace_s: float = 15.0) -> None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        self._log.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_and_wait(
    cmd: list[str],
    health_url: str,
    *,
    log_path: Path,
    timeout_s: float = 900.0,
    progress: bool = True,
    env: dict | None = None,
) -> ServerProcess:
    """Start ``cmd``, show a spinner with the elapsed time, return once ``health_url`` answers."""
    server = ServerProcess(cmd, log_path=log_path, env=env)
    try:
        if progress:
            from rich.console import Console

            console = Console(stderr=True)
            with console.status(f"starting {Path(cmd[0]).name} (log: {log_path})") as status:
                wait_for_health(
                    health_url,
                    timeout_s=timeout_s,
                    alive=server.alive,
                    on_wait=lambda t: status.update(f"waiting for {health_url} … {t:.0f} s (log: {log_path})"),
                )
        else:
            wait_for_health(health_url, timeout_s=timeout_s, alive=server.alive)
    except BaseException as exc:
        tail = server.log_tail(8)
        server.stop()
        if isinstance(exc, TutorError) and tail:
            print(tail, file=sys.stderr)
        raise
    return server


def serve_vllm(
    model: str,
    *,
    adapter: Path | None,
    port: int,
    log_path: Path,
    host: str = "127.0.0.1",
    max_model_len: int | None = None,
    timeout_s: float = 900.0,
    progress: bool = True,
) -> tuple[ServerProcess, str]:
    """Start vLLM for ``model`` and wait for /health; returns the process and its OpenAI base URL."""
    require_vllm()
    cmd = vllm_command(model, adapter=adapter, host=host, port=port, max_model_len=max_model_len)
    root = f"http://{host}:{port}"
    server = start_and_wait(cmd, f"{root}/health", log_path=log_path, timeout_s=timeout_s, progress=progress)
    return server, f"{root}/v1"
