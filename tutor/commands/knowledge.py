"""`tutor ingest` and `tutor search`: fill and query the knowledge base.

    tutor ingest                          # build or refresh the default corpus (roadmap, papers, core docs)
    tutor ingest notes/ paper.pdf         # add the user's files and folders (feed "user")
    tutor ingest --docs torch.nn --docs peft   # API docs of any installed package (feed "docs")
    tutor ingest --rebuild                # drop everything and build again
    tutor search "what does dropout do" --top-k 5 --feed papers --json

``--json`` prints exactly one object on stdout:
``{"query", "results": [{"text","source","title","section","feed","score","page","url","version"}]}``.
Progress bars and skipped-file lines go to stderr so stdout stays machine-readable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from tutor.errors import TutorError


def register(app: typer.Typer) -> None:
    """Add this group's commands to the top-level app."""
    app.command("ingest", help="Add files, folders or package docs to the knowledge base (no args: default corpus).")(
        ingest_command
    )
    app.command("search", help="Search the knowledge base; prints passages with their citations.")(search_command)
    kb = typer.Typer(help="Manage the knowledge base's storage (move it to a Qdrant server).", no_args_is_help=True)
    app.add_typer(kb, name="kb")
    kb.command("migrate", help="Copy the embedded knowledge base into a Qdrant server (batched, resumable).")(
        migrate_command
    )


def _err(line: str) -> None:
    print(line, file=sys.stderr)


def _stderr_progress():
    """progress(done=, total=, stage=) drawing one tqdm bar per stage on stderr."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(done=None, total=None, stage="working", **_):
        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.close()
            bar = bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr, dynamic_ncols=True, leave=False)
        if total is not None and bar.total != total:
            bar.total = total
        if done is not None:
            bar.n = done
        bar.refresh()

    def close():
        for bar in bars.values():
            bar.close()

    progress.close = close  # type: ignore[attr-defined]
    return progress


def ingest_command(
    paths: Optional[list[Path]] = typer.Argument(None, help="Files or folders (.md .txt .pdf .html .ipynb .py) for the user feed."),
    docs: Optional[list[str]] = typer.Option(None, "--docs", help="Installed package or module whose API docs to add (repeatable)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Drop the knowledge base and build it again."),
) -> None:
    from knowledge.corpus_default import build_default_corpus, ingest_docs_package
    from knowledge.pipeline import ingest_paths, rebuild as drop_all

    paths = list(paths or [])
    docs = list(docs or [])
    # Check every argument before touching the store: a typo must not leave half an ingest.
    missing = [str(p) for p in paths if not p.expanduser().exists()]
    if missing:
        raise TutorError(f"no such file or folder: {', '.join(missing)}")
    for package in docs:
        _check_installed(package)

    progress = _stderr_progress()
    reports = []
    try:
        if rebuild:
            drop_all()
            _err("dropped the knowledge base; rebuilding")
        if not paths and not docs:
            reports += build_default_corpus(progress=progress, show_progress=False)
        for package in docs:
            reports.append(ingest_docs_package(package, progress=progress, show_progress=False))
        if paths:
            reports += ingest_paths(paths, progress=progress, show_progress=False)
    finally:
        progress.close()
    problems = 0
    for report in reports:
        for line in report.problems:
            _err(f"skipped: {line}")
            problems += 1
        print(report.summary())
    from knowledge.store import Store

    print(f"knowledge base: {Store().count()} chunks" + (f"; {problems} file(s) skipped" if problems else ""))


def _check_installed(package: str) -> None:
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise TutorError(f"package '{package}' is not installed in this environment; pip install it first, then rerun")


def search_command(
    query: str = typer.Argument(..., help="What to look for, in quotes."),
    top_k: Optional[int] = typer.Option(None, "--top-k", help="How many passages (default: settings.top_k)."),
    feed: Optional[str] = typer.Option(None, "--feed", help="Only one feed: roadmap, papers, docs or user."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a list."),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid (default), dense or bm25."),
) -> None:
    from knowledge.retrieve import MODES
    from tutor.config import FEEDS
    from tutor.errors import check_choice, check_text, check_top_k

    # Validate before any model or store loads, so a typo fails at once.
    check_text(query, "search query", example='e.g. tutor search "what does dropout do"')
    if top_k is not None:
        check_top_k(top_k)
    if feed is not None:
        check_choice(feed, FEEDS, "feed")
    check_choice(mode, MODES, "mode")

    from knowledge.corpus_default import ensure_default_corpus
    from knowledge.retrieve import get_retriever

    progress = _stderr_progress()
    try:
        ensure_default_corpus(progress=progress, show_progress=False)
    finally:
        progress.close()
    results = get_retriever().search(query, top_k=top_k, feed=feed, mode=mode)  # type: ignore[arg-type]
    if as_json:
        out = {
            "query": query,
            "results": [
                {
                    "text": c.text,
                    "source": c.source,
                    "title": c.title,
                    "section": c.section,
                    "feed": c.feed,
                    "score": round(c.score, 6),
                    "page": c.page,
                    "url": c.url,
                    "version": c.version,
                }
                for c in results
            ],
        }
        print(json.dumps(out, ensure_ascii=False))
        return
    if not results:
        print("no results")
        return
    for n, c in enumerate(results, start=1):
        where = " > ".join(x for x in (c.title, c.section) if x)
        extra = ", ".join(x for x in (c.version, f"p. {c.page}" if c.page else None) if x)
        print(f"[{n}] {where}" + (f" ({extra})" if extra else ""))
        print(f"    {c.source} · {c.feed} · score {c.score:.4f}")
        snippet = " ".join(c.text.split())
        print(f"    {snippet[:300]}{'…' if len(snippet) > 300 else ''}")
        print()


def migrate_command(
    to: str = typer.Option(..., "--to", help="Qdrant server URL, e.g. http://localhost:6333."),
    api_key: Optional[str] = typer.Option(None, "--api-key", envvar="TUTOR_QDRANT_API_KEY", help="API key of the server."),
    batch: int = typer.Option(256, "--batch", min=1, max=10_000, help="Points per request."),
) -> None:
    """tutor kb migrate --to URL: the embedded store is only read; rerun to resume."""
    from knowledge.edge_migrate import migrate

    progress = _stderr_progress()
    try:
        report = migrate(to, api_key=api_key, batch=batch, progress=progress)
    finally:
        progress.close()
    print(report.summary())
