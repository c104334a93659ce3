"""The Knowledge tab: upload files into the knowledge base, see and remove your own.

An upload is checked before anything is stored: its type (suffix among the readers' types, and
content that matches it: a PDF starts with %PDF, a notebook is JSON, text is UTF-8 without NUL
bytes) and its size (``settings.max_file_mb``). It is then copied to
``<home>/uploads/<user>/<safe name>`` (the name reduced to letters, digits, ``.-_``; no folders,
no leading dot) and ingested into the "user" feed with ``knowledge.pipeline.ingest_paths``,
exactly what ``tutor ingest FILE`` does; the agent shows those passages to their owner only
(``tutor/agent/uploads.py``). Removing deletes the copy and prunes its passages
(``prune_missing_user_files``), so the store and the disk agree.
"""

import json
import logging
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from tutor.agent.uploads import user_dir
from tutor.config import Settings
from tutor.errors import TutorError
from tutor.web.context import PageContext, readable
from tutor.web.render import esc

log = logging.getLogger("tutor.web")
#: The readers' types (knowledge/readers/files.py); kept here so the page needs no import to draw.
SUFFIXES = (".html", ".htm", ".ipynb", ".markdown", ".md", ".pdf", ".py", ".txt")
MAX_NAME = 100


@dataclass
class KnowledgePanel:
    tab: Any
    files: Any
    add: Any
    report: Any
    table: Any
    pick: Any
    remove: Any


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder or hide: ``../../etc/x.md`` → ``x.md``."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = unicodedata.normalize("NFKC", base)
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()
    stem = stem[: MAX_NAME - len(suffix) - 1] or "upload"
    return f"{stem}.{suffix}" if suffix else stem


def check_upload(path: Path, name: str, max_mb: float) -> str:
    """The safe name for an upload, or TutorError saying why it is refused."""
    clean = safe_name(name)
    suffix = Path(clean).suffix.lower()
    if suffix not in SUFFIXES:
        raise TutorError(f"{name}: type '{suffix or 'none'}' is not supported (use {', '.join(SUFFIXES)})")
    size = path.stat().st_size
    if size > max_mb * 1024 * 1024:
        raise TutorError(f"{name}: {size / 2**20:.1f} MB is over the limit of {max_mb:g} MB")
    if size == 0:
        raise TutorError(f"{name}: the file is empty")
    head = path.read_bytes()[: 64 * 1024] if suffix != ".pdf" else path.read_bytes()[:5]
    if suffix == ".pdf":
        if not head.startswith(b"%PDF"):
            raise TutorError(f"{name}: this is not a PDF (it does not start with %PDF)")
    else:
        if b"\x00" in head:
            raise TutorError(f"{name}: this looks like a binary file, not {suffix} text")
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise TutorError(f"{name}: the text is not UTF-8") from None
        if suffix == ".ipynb":
            try:
                data = json.loads(text)
            except ValueError:
                raise TutorError(f"{name}: this notebook is not valid JSON") from None
            if not isinstance(data, dict) or "cells" not in data:
                raise TutorError(f"{name}: this JSON is not a Jupyter notebook (no cells)")
    return clean


def store_upload(settings: Settings, user: str, path: Path, name: str) -> Path:
    """Check, then copy an upload into the user's folder; returns where it now lives."""
    clean = check_upload(path, name, settings.max_file_mb)
    folder = user_dir(settings, user)
    folder.mkdir(parents=True, exist_ok=True)
    dest = (folder / clean).resolve()
    if dest.parent != folder.resolve():  # belt and braces: safe_name already has no separators
        raise TutorError(f"{name}: refused file name")
    tmp = dest.with_name(f".{dest.name}.part")
    shutil.copyfile(path, tmp)
    tmp.replace(dest)
    return dest


def user_sources(settings: Settings, user: str) -> list[dict[str, Any]]:
    from knowledge.pipeline import stored_sources

    folder = user_dir(settings, user).resolve()
    prefix = f"user:{folder}/"
    rows = []
    for source, entry in sorted(stored_sources(settings, feed="user").items()):
        if source.startswith(prefix):
            path = Path(source[5:])
            rows.append({"name": path.name, "source": source, "chunks": len(entry.get("nodes") or []),
                         "kb": round(path.stat().st_size / 1024, 1) if path.exists() else None})
    return rows


def remove_upload(settings: Settings, user: str, name: str) -> int:
    from knowledge.pipeline import prune_missing_user_files

    folder = user_dir(settings, user).resolve()
    target = (folder / safe_name(name)).resolve()
    if target.parent != folder or not target.is_file():
        raise TutorError(f"no file '{name}' among your uploads")
    target.unlink()
    return prune_missing_user_files(settings)


def build(ctx: PageContext) -> KnowledgePanel:
    limit = ctx.settings.max_file_mb
    with gr.Tab("Knowledge", id="knowledge", elem_id="tab-knowledge") as tab:
        gr.Markdown(f"Add your own notes, papers and code: **{', '.join(SUFFIXES)}**, up to **{limit:g} MB** each. "
                    "The tutor searches them next to the roadmap and the paper notes, and cites them like any source.")
        files = gr.File(label="Files to add", file_count="multiple", file_types=list(SUFFIXES), elem_id="upload")
        add = gr.Button("Add to the knowledge base", variant="primary", elem_id="ingest")
        report = gr.Markdown(elem_id="ingest-report")
        gr.Markdown("### Your files")
        table = gr.Dataframe(headers=["file", "passages", "KB"], value=[], interactive=False, elem_id="sources-table")
        with gr.Row():
            pick = gr.Dropdown(label="File", choices=[], elem_id="source-pick", scale=3)
            remove = gr.Button("Remove", variant="stop", scale=1, elem_id="source-remove")

    def listing(user: str):
        rows = user_sources(ctx.settings, user)
        names = [r["name"] for r in rows]
        return ([[r["name"], r["chunks"], r["kb"]] for r in rows],
                gr.update(choices=names, value=names[0] if names else None))

    def refresh(request: gr.Request):
        try:
            return (*listing(ctx.user(request)), gr.skip())
        except Exception as exc:  # noqa: BLE001
            return gr.skip(), gr.skip(), f"⚠️ {esc(readable(exc))}"

    tab.select(refresh, None, [table, pick, report], show_progress="hidden")

    def ingest(uploaded: list | None, request: gr.Request, progress=gr.Progress()):
        from knowledge.pipeline import ingest_paths

        user = ctx.user(request)
        if ctx.corpus is not None and not ctx.corpus.ready:
            return ctx.corpus.line(), gr.skip(), gr.skip(), gr.skip()
        if not uploaded:
            return "Choose one or more files first.", gr.skip(), gr.skip(), gr.skip()
        lines = []
        stored: list[Path] = []
        for item in uploaded:
            path = Path(str(getattr(item, "name", item)))  # Gradio keeps the original name as the basename
            name = path.name
            try:
                stored.append(store_upload(ctx.settings, user, path, name))
            except Exception as exc:  # noqa: BLE001
                lines.append(f"- ✗ {esc(readable(exc))}")

        def tell(done=None, total=None, stage="working", **_):
            if total:
                progress((done or 0, total), desc=str(stage), unit="chunks")
            else:
                progress(None, desc=str(stage))

        if stored:
            with ctx.upload_lock:  # one ingestion at a time: they share the ledger and the BM25 index
                try:
                    reports = ingest_paths(stored, settings=ctx.settings, progress=tell, show_progress=False)
                except Exception as exc:  # noqa: BLE001
                    return f"⚠️ {esc(readable(exc))}", gr.skip(), gr.skip(), None
            for path, rep in zip(stored, reports):
                mark = "✗" if rep.problems and not rep.chunks and not rep.unchanged else "✓"
                what = (f"{rep.chunks} passages added" if rep.chunks else
                        "unchanged, already in the knowledge base" if rep.unchanged else "nothing readable")
                lines.append(f"- {mark} **{esc(path.name)}**: {what}")
                lines += [f"  - {esc(p)}" for p in rep.problems]
        table, pick = listing(user)
        return "\n".join(lines) or "Nothing was added.", table, pick, None

    add.click(ingest, [files], [report, table, pick, files], concurrency_limit=1, concurrency_id="ingest")

    def drop(name: str | None, request: gr.Request):
        user = ctx.user(request)
        if not name:
            return "Pick a file to remove.", gr.skip(), gr.skip()
        try:
            with ctx.upload_lock:
                remove_upload(ctx.settings, user, name)
        except Exception as exc:  # noqa: BLE001
            return f"⚠️ {esc(readable(exc))}", gr.skip(), gr.skip()
        table, pick = listing(user)
        return f"Removed **{esc(name)}** and its passages.", table, pick

    remove.click(drop, [pick], [report, table, pick], concurrency_limit=1, concurrency_id="ingest")
    return KnowledgePanel(tab, files, add, report, table, pick, remove)
