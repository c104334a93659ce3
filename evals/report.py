"""Small output helpers shared by the eval suites: a Markdown table and a JSON file.

Suites print Markdown (not a rich console table) on purpose: the same text is pasted into
``docs/*.md``, so what a reader sees in the docs is exactly what the command printed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

# The project's one JSON writer (atomic, strict JSON: nan -> null); the evals import it from here.
from tutor.io import write_json  # noqa: F401


def fmt(value: Any, digits: int = 3) -> str:
    """Format one cell: floats to a fixed number of digits, None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], digits: int = 3) -> str:
    """A GitHub-flavoured Markdown table; numeric columns are right-aligned."""
    rows = [[fmt(cell, digits) for cell in row] for row in rows]
    numeric = [
        bool(rows) and all(_looks_numeric(row[i]) for row in rows) for i in range(len(headers))
    ]
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---:" if num else "---" for num in numeric) + "|")
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _looks_numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return cell == "–"
    return True


def run_cli(main: Any) -> None:
    """Run an eval's ``main()`` as a command: a TutorError or Ctrl-C becomes one line on stderr."""
    import sys

    from tutor.config import get_settings
    from tutor.errors import TutorError
    from tutor.logs import setup_logging

    try:
        # Library warnings and logs go to $TUTOR_HOME/logs/tutor.log, not between the tables.
        setup_logging(get_settings(), verbose=False)
        sys.exit(main())
    except TutorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("error: cancelled", file=sys.stderr)
        sys.exit(130)


def load_jsonl(path, model, what: str) -> list:
    """Rows of a JSON-lines dataset as ``model`` instances; a missing file or a bad line is one TutorError."""
    from pydantic import ValidationError

    from tutor.errors import TutorError

    path = Path(path)
    if not path.is_file():
        raise TutorError(f"no {what} dataset at {path}")
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(model.model_validate_json(line))
            except ValidationError as exc:
                raise TutorError(f"{path} line {i}: not a {what} case ({exc.errors()[0]['msg']})") from None
    return rows
