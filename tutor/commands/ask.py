"""`tutor ask "QUESTION"`: a grounded answer with numbered citations, streamed as it is written.

    tutor ask "Which loss does the roadmap's CNN compile with?"
    tutor ask "What does batch_first do in nn.LSTM?" --feed docs --top-k 3
    tutor ask "..." --json     # {"answer", "citations": [{"n","source","title","section","text"}], "model", "latency_s"}

With ``--json`` the only thing on stdout is that object; ``citations`` holds the passages the
answer cites, or — when it cites none inline — the top passages it was based on.
"""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer

from tutor.errors import TutorError


def register(app: typer.Typer) -> None:
    """Add this group's commands to the top-level app."""
    app.command("ask", help="Answer a question from the knowledge base, with numbered citations.")(ask_command)


def ask_command(
    question: str = typer.Argument(..., help="The question, in quotes."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of streaming text."),
    top_k: Optional[int] = typer.Option(None, "--top-k", help="Passages to retrieve, 1 to 100 (default: settings.top_k)."),
    feed: Optional[str] = typer.Option(None, "--feed", help="Only search one feed: roadmap, papers, docs or user."),
) -> None:
    from tutor.agent.ask import ask
    from tutor.config import FEEDS

    # Checked here too so a typo fails in milliseconds, before the corpus or model loads.
    if not " ".join((question or "").split()):
        raise TutorError('The question is empty; ask something, e.g. tutor ask "What does dropout do?".')
    if feed is not None and feed not in FEEDS:
        raise TutorError(f"Unknown feed '{feed}'; choose one of: {', '.join(FEEDS)}.")
    if top_k is not None and not 1 <= top_k <= 100:
        raise TutorError(f"--top-k must be between 1 and 100, got {top_k}.")

    _ensure_corpus()
    if as_json:
        answer = ask(question, top_k=top_k, feed=feed)
        refs = answer.citations or answer.sources
        out = {
            "answer": answer.answer,
            "citations": [r.model_dump(include={"n", "source", "title", "section", "text"}) for r in refs],
            "model": answer.model,
            "latency_s": round(answer.latency_s, 3),
        }
        print(json.dumps(out, ensure_ascii=False))
        return

    answer = None
    for event in ask(question, top_k=top_k, feed=feed, stream=True):
        if event.type == "token":
            sys.stdout.write(event.text)
            sys.stdout.flush()
        elif event.type == "answer":
            answer = event.answer
    sys.stdout.write("\n")
    if answer is None:
        return
    if answer.citations:
        print("\nSources cited:")
        refs = answer.citations
    elif answer.sources:
        print("\nSources (the answer cites none inline; these are the passages it was given):")
        refs = answer.sources
    else:
        refs = []
    for r in refs:
        where = " › ".join(x for x in (r.title, r.section) if x)
        print(f"  [{r.n}] {where} ({r.source})" if where else f"  [{r.n}] {r.source}")
    print(f"\n{answer.model} · {answer.latency_s:.1f} s", file=sys.stderr)


def _ensure_corpus() -> None:
    """Build the default corpus on a fresh data dir; its progress bars go to stderr (tqdm)."""
    from knowledge.corpus_default import ensure_default_corpus, is_built

    if not is_built():
        print("Building the default knowledge base (first run only; Ctrl-C to stop, rerun to resume)...", file=sys.stderr)
    ensure_default_corpus()
