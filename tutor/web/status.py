"""The Status tab (model, backend, CPU/GPU, knowledge base) and the first-launch banner."""

import logging
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import gradio as gr

from tutor.web.context import PageContext, readable
from tutor.web.render import esc

log = logging.getLogger("tutor.web")


@dataclass
class StatusPanel:
    tab: Any
    view: Any
    refresh: Any


def _cpu() -> str:
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return f"{name} · {usable} usable core{'s' if usable != 1 else ''}"


def _gpu() -> str:
    torch = sys.modules.get("torch")  # never import torch just to draw a page
    if torch is not None:
        try:
            if torch.cuda.is_available():
                return ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        except Exception:  # noqa: BLE001
            pass
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=5).stdout.strip()
            if out:
                return "; ".join(out.splitlines())
        except (OSError, subprocess.SubprocessError):
            pass
    return "none (CPU only)"


def _model(ctx: PageContext) -> list[tuple[str, str]]:
    s = ctx.settings
    rows = [("backend", s.llm_backend), ("preset", s.llm_preset)]
    injected = getattr(ctx.tutor, "_llm", None)
    if injected is not None:
        meta = getattr(injected, "metadata", None)
        rows.append(("model in use", str(getattr(meta, "model_name", None) or type(injected).__name__)))
    if s.llm_backend in ("openai", "vllm"):
        rows.append(("server", s.llm_base_url or "(default)"))
    else:
        try:
            from tutor.llm.model_files import locate
            from tutor.llm.presets import get_preset

            available, where = locate(get_preset(s.llm_preset), s)
            rows.append(("model files", ("✓ " if available else "✗ missing: ") + where))
        except Exception as exc:  # noqa: BLE001
            rows.append(("model files", f"✗ {readable(exc)}"))
    from tutor.llm.load import adapter_label

    rows.append(("adapter", adapter_label(s) or "none (the base model)"))
    rows += [("context window", f"{s.context_window} tokens"), ("max new tokens", str(s.max_new_tokens))]
    return rows


def _knowledge(ctx: PageContext) -> list[tuple[str, str]]:
    rows = []
    if ctx.corpus is not None:
        rows.append(("default corpus", ctx.corpus.line()))
    if ctx.corpus is not None and not ctx.corpus.ready:
        return rows  # the store is busy being built; counting now would wait on it
    try:
        from knowledge.pipeline import stored_sources
        from knowledge.store import Store
        from tutor.config import FEEDS

        store = Store(ctx.settings)
        sources = stored_sources(ctx.settings)
        per_feed = []
        for feed in FEEDS:
            n_src = sum(1 for e in sources.values() if e.get("feed") == feed)
            per_feed.append(f"{feed} {store.count(feed)} passages / {n_src} sources")
        rows.append(("knowledge base", f"{store.count()} passages in '{ctx.settings.collection}'"))
        rows.append(("by feed", " · ".join(per_feed)))
        where = {"edge": "Qdrant Edge (in-process)", "local": "qdrant-client local mode"}.get(
            ctx.settings.store_backend, ctx.settings.store_backend)
        rows.append(("vector store", f"Qdrant server at {ctx.settings.qdrant_url}" if ctx.settings.qdrant_url
                     else f"{where} at {ctx.settings.qdrant_path}"))
    except Exception as exc:  # noqa: BLE001
        rows.append(("knowledge base", f"✗ {readable(exc)}"))
    return rows


def status_html(ctx: PageContext) -> str:
    import gradio

    sections = [
        ("Model", _model(ctx)),
        ("Machine", [("CPU", _cpu()), ("GPU", _gpu()), ("experiments run on", ctx.settings.lab_device)]),
        ("Knowledge", _knowledge(ctx)),
        ("Data", [("data dir", str(ctx.settings.home)), ("logins", "on" if ctx.auth else "off (one local user)"),
                  ("page", f"Gradio {gradio.__version__}, {ctx.concurrency} chats at once")]),
    ]
    out = []
    for title, rows in sections:
        body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
        out.append(f'<h4>{esc(title)}</h4><table class="status">{body}</table>')
    return "".join(out)


def banner_html(ctx: PageContext) -> str:
    if ctx.corpus is None or ctx.corpus.ready:
        return ""
    s = ctx.corpus.snapshot()
    if s["state"] == "failed":
        return f'<div class="banner failed" role="alert">⚠️ {esc(ctx.corpus.line())}</div>'
    value = f'value="{s["done"]}" max="{s["total"]}"' if s["done"] is not None and s["total"] else ""
    return (f'<div class="banner building" role="status"><span>{esc(ctx.corpus.line())}</span>'
            f'<progress {value} aria-label="knowledge base build"></progress></div>')


def build(ctx: PageContext) -> StatusPanel:
    with gr.Tab("Status", id="status", elem_id="tab-status") as tab:
        view = gr.HTML(elem_id="status")
        refresh = gr.Button("Refresh", size="sm", elem_id="status-refresh")

    def show():
        try:
            return status_html(ctx)
        except Exception as exc:  # noqa: BLE001
            return f'<div class="turn-error">⚠️ {esc(readable(exc))}</div>'

    for trigger in (tab.select, refresh.click):
        trigger(show, None, view, show_progress="hidden")
    return StatusPanel(tab, view, refresh)
