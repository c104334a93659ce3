"""`tutor ask "QUESTION"`: one turn of the tutor, streamed; the scripted path to the agent.

    tutor ask "Which loss does the roadmap's CNN compile with?"
    tutor ask "What does batch_first do in nn.LSTM?" --feed docs --top-k 3
    tutor ask "train the cnn for 3 epochs with dropout 0.3 and explain the curve"
    tutor ask "what did I say I was training?" --session S --user sam
    tutor ask "..." --json   # {"answer", "citations", "model", "latency_s", "session_id", "mode", "tool_calls", ...}

With ``--json`` the only thing on stdout is that object; ``citations`` holds the passages the
answer cites, or — when it cites none inline — the top passages it was based on.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Optional

import typer

from tutor.errors import TutorError


def register(app: typer.Typer) -> None:
    """Add this group's commands to the top-level app."""
    app.command("ask", help="Ask the tutor one thing: a cited answer, an experiment, a quiz.")(ask_command)


def check_options(question: str | None, feed: str | None, top_k: int | None, mode: str | None,
                  session: str | None = None) -> None:
    """Refuse bad input in milliseconds, before the corpus or the model loads."""
    from tutor.agent.ask import check_question
    from tutor.config import FEEDS
    from tutor.errors import check_choice, check_top_k

    check_question(question)
    if feed is not None:
        check_choice(feed, FEEDS, "feed")
    if top_k is not None:
        check_top_k(top_k)
    if mode is not None:
        check_choice(mode, ("explain", "guide"), "mode")
    if session is not None:
        from tutor.agent.memory.repository import check_session_id

        check_session_id(session)


def ask_command(
    question: str = typer.Argument(..., help="The question or request, in quotes."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of streaming text."),
    top_k: Optional[int] = typer.Option(None, "--top-k", help="Passages to retrieve, 1 to 100 (default: settings.top_k)."),
    feed: Optional[str] = typer.Option(None, "--feed", help="Only search one feed: roadmap, papers, docs or user."),
    session: Optional[str] = typer.Option(None, "--session", help="Continue this conversation (created when new)."),
    user: Optional[str] = typer.Option(None, "--user", help="Learner name (default: settings.user)."),
    mode: Optional[str] = typer.Option(None, "--mode", help="explain (direct, cited) or guide (Socratic)."),
) -> None:
    check_options(question, feed, top_k, mode, session)
    ensure_corpus()
    from tutor.agent import Tutor
    from tutor.commands.render import TerminalRenderer

    cancel = threading.Event()
    events = Tutor().turn(session, question, mode=mode, user=user, cancel=cancel, feed=feed, top_k=top_k)
    render = None if as_json else TerminalRenderer()
    final = None
    try:
        for event in events:
            if render:
                render(event)
            if event.type in ("answer", "error"):
                final = event
    except KeyboardInterrupt:
        cancel.set()  # a running experiment stops at its next epoch
        raise
    if final is None or final.type == "error":
        if render is not None and final is not None:
            raise typer.Exit(TutorError.exit_code)  # the renderer already printed its one line
        raise TutorError(final.message if final else "the tutor gave no answer")
    if as_json:
        print(json.dumps(answer_json(final), ensure_ascii=False))


def answer_json(answer) -> dict:
    """The documented `--json` object: today's fields, plus the session, the mode and the tool calls."""
    refs = answer.citations or answer.sources
    out = {
        "answer": answer.text,
        "citations": [r.model_dump(include={"n", "source", "title", "section", "text"}) for r in refs],
        "model": answer.model,
        "latency_s": round(answer.latency_s, 3),
        "session_id": answer.session_id,
        "mode": answer.mode,
        "tool_calls": [c.model_dump() for c in answer.tool_calls],
    }
    # The LoRA adapter the model runs with (null = the bare base model): settings decide it.
    out["adapter"] = answer.extra["adapter"] if "adapter" in answer.extra else _adapter_in_use()
    return out


def _adapter_in_use() -> str | None:
    from tutor.config import get_settings
    from tutor.llm.load import adapter_label

    return adapter_label(get_settings())


def ensure_corpus() -> None:
    """Build the default corpus on a fresh data dir; its progress bars go to stderr (tqdm)."""
    from knowledge.corpus_default import ensure_default_corpus, is_built

    if not is_built():
        print("Building the default knowledge base (first run only; Ctrl-C to stop, rerun to resume)...", file=sys.stderr)
    ensure_default_corpus()
