"""`tutor models` and `tutor serve`: the model presets, and a vLLM server for a GPU machine.

    tutor models                     # presets, which work offline, where their files are
    tutor serve                      # vLLM for the current preset on :8000 (GPU, needs dl-tutor[gpu])
    tutor serve --preset qwen2.5-7b-instruct --adapter runs/lora-1 --port 8001

While `tutor serve` runs, point the tutor at it with
``TUTOR_LLM_BACKEND=vllm TUTOR_LLM_BASE_URL=http://127.0.0.1:PORT/v1`` (plus
``TUTOR_ADAPTER_PATH`` when serving an adapter, so requests go to the served name ``tutor``).
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from tutor.errors import TutorError


def register(app: typer.Typer) -> None:
    """Add this group's commands to the top-level app."""
    app.command("models", help="List the model presets, whether each works offline, and where its files are.")(
        models_command
    )
    app.command("serve", help="Serve a preset (+ LoRA adapter) with vLLM on a GPU machine, OpenAI-compatible.")(
        serve_command
    )


def models_command(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
) -> None:
    import json

    from tutor.config import get_settings
    from tutor.llm.load import adapter_label
    from tutor.llm.model_files import locate, provenance
    from tutor.llm.presets import PRESETS

    settings = get_settings()
    rows = []
    for preset in PRESETS.values():
        available, where = locate(preset, settings)
        rows.append(
            {
                "name": preset.name,
                "default": preset.name == settings.llm_preset,
                "offline": available,
                "source": preset.source,
                "hf_repo": preset.hf_repo,
                "files": where,
                "description": preset.description,
                "provenance": provenance(preset, settings),
                # The adapter this preset runs with under the current settings (null = bare base model).
                "adapter": adapter_label(settings.model_copy(update={"llm_preset": preset.name})),
            }
        )
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"model presets (backend: {settings.llm_backend})")
    for col in ("preset", "offline", "source", "files", "description"):
        table.add_column(col, overflow="fold")
    for r in rows:
        name = r["name"] + (" *" if r["default"] else "")
        adapter = f" + adapter {r['adapter']}" if r["adapter"] else ""
        table.add_row(name, "yes" if r["offline"] else "no", r["source"], r["files"], r["description"] + adapter)
    console = Console()
    console.print(table)
    print("* = current preset (TUTOR_LLM_PRESET)")
    # Where the files come from, for the presets that ship with the install (--json has all of them).
    for r in rows:
        if PRESETS[r["name"]].offline:
            console.print(f"\n[bold]{r['name']}[/bold]: {r['provenance']}", highlight=False, soft_wrap=True)


def serve_command(
    preset: Optional[str] = typer.Option(None, "--preset", help="Model preset (default: settings.llm_preset)."),
    adapter: Optional[Path] = typer.Option(
        None, "--adapter", help="PEFT LoRA adapter dir, served as model 'tutor' (default: settings.adapter_path)."
    ),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (0.0.0.0 to serve other machines)."),
    timeout: float = typer.Option(900.0, "--timeout", min=1, help="Seconds to wait for the server to become healthy."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the vllm command and exit."),
) -> None:
    import shlex

    from tutor.config import get_settings
    from tutor.llm.backends.vllm_server import ADAPTER_MODEL_NAME, require_vllm, serve_vllm, vllm_command
    from tutor.llm.presets import get_preset

    settings = get_settings()
    chosen = get_preset(preset or settings.llm_preset)
    adapter = adapter or settings.adapter_path
    model = str(settings.llm_model_path) if settings.llm_model_path and Path(settings.llm_model_path).is_dir() else chosen.hf_repo
    cmd = vllm_command(model, adapter=adapter, host=host, port=port, max_model_len=settings.context_window)
    if dry_run:
        print(shlex.join(cmd))
        return
    require_vllm()
    log_path = settings.home / "logs" / f"vllm-{port}.log"
    server, url = serve_vllm(
        model, adapter=adapter, host=host, port=port, max_model_len=settings.context_window,
        log_path=log_path, timeout_s=timeout,
    )
    served = ADAPTER_MODEL_NAME if adapter else model
    print(f"vLLM is serving {served!r} at {url} (log: {log_path})")
    print(f"use it: TUTOR_LLM_BACKEND=vllm TUTOR_LLM_BASE_URL={url}" + (f" TUTOR_ADAPTER_PATH={adapter}" if adapter else ""))
    print("Ctrl-C stops it.")
    # SIGTERM (from a service manager) ends the server like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while server.alive():
            time.sleep(1.0)
        raise TutorError(f"vLLM exited with code {server.proc.returncode}; see {log_path}.")
    except KeyboardInterrupt:
        print("stopping vLLM …", file=sys.stderr)
    finally:
        server.stop()


def _interrupt(signum, frame) -> None:  # noqa: ARG001
    raise KeyboardInterrupt
