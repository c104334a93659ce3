"""`tutor chat`: a conversation in the terminal, with streaming answers and experiment progress.

    tutor chat                       # a new session
    tutor chat --session S --mode guide --user sam

Type a message and press Enter; `/mode guide`, `/mode explain`, `/new` and `/quit` are commands.
Ctrl-C during a reply stops it (a running experiment is cancelled); Ctrl-C at the prompt quits.
"""

from __future__ import annotations

import sys
import threading
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("chat", help="Talk with the tutor in the terminal.")(chat_command)


def chat_command(
    session: Optional[str] = typer.Option(None, "--session", help="Continue this conversation (created when new)."),
    user: Optional[str] = typer.Option(None, "--user", help="Learner name (default: settings.user)."),
    mode: Optional[str] = typer.Option(None, "--mode", help="explain (direct, cited) or guide (Socratic)."),
) -> None:
    from tutor.commands.ask import check_options, ensure_corpus

    check_options("-", None, None, mode, session)
    ensure_corpus()
    from tutor.agent import Tutor
    from tutor.commands.render import TerminalRenderer

    from tutor.lab.warm import prewarm

    prewarm()  # a conversation may ask for an experiment: keep a run process with torch imported ready
    tutor = Tutor()
    render = TerminalRenderer()
    print("DL Tutor. Ask anything from the roadmap, or say \"train the cnn for 3 epochs\". /quit to leave.",
          file=sys.stderr)
    while True:
        try:
            line = input(f"[{mode or 'explain'}] you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return
        if line == "/new":
            session = None
            print("(new session)", file=sys.stderr)
            continue
        if line.startswith("/mode"):
            wanted = line.removeprefix("/mode").strip()
            if wanted in ("explain", "guide"):
                mode = wanted
                print(f"(mode: {mode})", file=sys.stderr)
            else:
                print("error: /mode takes explain or guide", file=sys.stderr)
            continue
        cancel = threading.Event()
        try:
            for event in tutor.turn(session, line, mode=mode, user=user, cancel=cancel):
                render(event)
                if event.type == "answer":
                    session = event.session_id
                elif event.type == "error" and event.session_id:
                    session = event.session_id
        except KeyboardInterrupt:
            cancel.set()
            print("\n(stopped)", file=sys.stderr)
