"""`tutor`: the command-line face.

Each command group lives in ``tutor/commands/<group>.py`` and is registered here, so the
file names say where a request goes: ``tutor ingest``/``search`` → commands/knowledge.py,
``tutor ask`` → commands/ask.py, ``tutor chat`` → commands/chat.py, ``tutor serve``/``models`` → commands/llm.py, ``tutor experiment`` → commands/lab.py.

The terminal gets progress, answers and one-line errors only: library warnings and logs go to
``$TUTOR_HOME/logs/tutor.log`` (tutor/logs.py); ``tutor -v COMMAND`` shows them on stderr too.
"""

from __future__ import annotations

import os
import sys

import typer

from tutor.errors import TutorError

app = typer.Typer(
    name="tutor",
    help="An open, self-hosted deep-learning tutor.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    verbose: bool = typer.Option(
        False, "-v", "--verbose", help="Also show library warnings and log records on stderr (they always go to the log file)."
    ),
) -> None:
    """Runs before every command (not for --help): route warnings and logs away from the terminal."""
    from tutor.config import get_settings
    from tutor.logs import setup_logging

    setup_logging(get_settings(), verbose=verbose)


def _register() -> None:
    # Imported lazily inside a function so `tutor --help` stays fast and a broken optional
    # group cannot stop the others from loading.
    from tutor.commands import ask, chat, eval, finetune, knowledge, lab, llm

    for module in (knowledge, ask, chat, llm, lab, eval, finetune):
        module.register(app)


def main() -> None:
    """Console-script entry: run the app, turn every error into one line on stderr."""
    try:
        _register()
        # standalone_mode=False lets us print errors our way; click then *returns* the
        # exit code of `typer.Exit` instead of calling sys.exit itself.
        rc = app(standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else 0)
    except typer.Exit as exc:  # raised by commands for a clean exit code
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("error: cancelled", file=sys.stderr)
        sys.exit(130)
    except TutorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors and anything unexpected
        from typer.exceptions import TyperException

        # This typer vendors click (typer._click): its usage errors are TyperExceptions, not click's.
        usage_errors: tuple[type[BaseException], ...] = (TyperException,)
        try:
            import click

            usage_errors += (click.ClickException,)
        except ImportError:
            pass
        if isinstance(exc, usage_errors) and hasattr(exc, "format_message"):
            if type(exc).__name__ != "NoArgsIsHelpError":  # bare `tutor`: the help is already printed
                print(f"error: {exc.format_message()}", file=sys.stderr)
            sys.exit(getattr(exc, "exit_code", 2))
        if os.environ.get("TUTOR_DEBUG"):
            raise
        from tutor.io import one_line

        # A pydantic error that reaches this far comes from the settings (commands word their own).
        prefix = "invalid settings: " if type(exc).__name__ == "ValidationError" else ""
        print(f"error: {prefix}{one_line(exc, with_type=False)} (set TUTOR_DEBUG=1 for the traceback)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
