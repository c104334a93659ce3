"""Small file and message helpers every layer shares: one place each instead of a copy per layer.

- ``one_line(exc)``: an exception as one readable line (for results, logs and error output);
- ``json_safe(value)``: strict JSON values (nan/inf become null, numpy/torch scalars become numbers);
- ``atomic_path`` / ``atomic_write_text`` / ``write_json``: a reader never sees half a file, a crash
  never leaves one.

Like ``tutor.config`` and ``tutor.errors`` this module imports nothing from the project, so
knowledge, the lab, the LLM runtime and evals may all use it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def one_line(exc: BaseException, *, with_type: bool = True) -> str:
    """``"ValueError: bad shape (3, 4)"``: the message with its whitespace collapsed.

    A pydantic ValidationError becomes ``"name: message; other: message"`` (its own text spans
    many lines and links to a web page).
    """
    errors = getattr(exc, "errors", None)
    if callable(errors) and type(exc).__name__ == "ValidationError":  # pydantic, without importing it
        parts = [f"{'.'.join(str(p) for p in e.get('loc', ())) or 'value'}: {e.get('msg')}" for e in errors()]
        text = "; ".join(parts)
    else:
        text = " ".join(str(exc).split())
    if not with_type:
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def json_safe(value: Any) -> Any:
    """Strict JSON: nan/inf (a diverged loss) become null, numpy/torch scalars plain numbers, paths text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return json_safe(value.item())
    if isinstance(value, Path):
        return str(value)
    return value


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; on a clean exit it replaces ``path``, on an error
    (a failed checksum, Ctrl-C) it is deleted and ``path`` is left as it was.

    The temporary name carries the process and thread, so two writers never share it (not
    ``mkstemp``: its files are private to the owner, and a report or ledger should get the
    usual permissions); the replace is atomic on one filesystem, so the real name only ever
    holds a whole file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` so that a reader never sees half of it (see ``atomic_path``)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


def write_json(path: str | Path, data: Any, *, indent: int | None = 2) -> Path:
    """``data`` as strict, UTF-8 JSON (see ``json_safe``), written atomically; returns the path."""
    text = json.dumps(json_safe(data), indent=indent, ensure_ascii=False, default=str)
    return atomic_write_text(path, text + "\n")
