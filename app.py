"""dl-tutor in the browser.

    python app.py                               # http://127.0.0.1:7860, one local learner
    python app.py --host 0.0.0.0 --port 8080    # reachable from other machines
    TUTOR_AUTH="ada:secret,alan:other" python app.py   # logins: one learner per login

Settings (model, data dir, ...) come from the same TUTOR_* variables and tutor.toml as the CLI.
The panels live in tutor/web/; this file only reads arguments and starts them. Keep the top level
light and the __main__ guard: experiment runs start child processes with the "spawn" method,
which import this module again.
"""

import argparse
import os
import sys


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="app.py", description="The dl-tutor page (Gradio).")
    parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1: this machine only).")
    parser.add_argument("--port", type=int, default=7860, help="Port (default 7860).")
    parser.add_argument("--share", action="store_true", help="Also open a public Gradio share link (needs internet).")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="Chats answered at once (the model still writes one answer at a time; default 8).")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="Also show library warnings and logs here (they always go to $TUTOR_HOME/logs/tutor.log).")
    parser.add_argument("--no-prewarm", action="store_true",
                        help="Do not keep a spare experiment process with torch loaded.")
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be 1-65535, not {args.port}")
    if not 1 <= args.concurrency <= 256:
        parser.error(f"--concurrency must be 1-256, not {args.concurrency}")
    return args


def main(argv: list[str] | None = None, *, tutor=None) -> int:
    """Start the page; ``tutor`` replaces the default ``Tutor`` (tests inject one)."""
    args = parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from tutor.errors import TutorError
    from tutor.web.server import launch, parse_auth

    try:
        from tutor.config import get_settings
        from tutor.logs import setup_logging

        # The terminal shows the page's address and one-line errors; library warnings go to the log file.
        setup_logging(get_settings(), args.verbose)
        auth = parse_auth(os.environ.get("TUTOR_AUTH"))
        launch(host=args.host, port=args.port, share=args.share, auth=auth, concurrency=args.concurrency,
               tutor=tutor, prewarm_lab=not args.no_prewarm)
    except TutorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
