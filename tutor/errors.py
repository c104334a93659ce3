"""User-facing errors.

Raise ``TutorError`` with one plain sentence for anything a user can cause or fix (bad
arguments, a missing file, an offline hub, a locked store). Faces print its message on one
line and exit non-zero; they never show a traceback for it. Like config, this module
imports nothing from the project, so every layer may use it.
"""

from __future__ import annotations


class TutorError(Exception):
    """An error whose message is meant for the user, on one line."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class OfflineError(TutorError):
    """Something needs the internet (a hub model, arXiv) and the machine is offline."""


class StoreLockedError(TutorError):
    """The embedded vector store is held by another process."""


# --- input checks ------------------------------------------------------------------------------
# One wording for the checks every face and API repeats (ask, search, the agent, retrieval), so a
# learner gets the same sentence whichever door they came in by.

TOP_K_MAX = 100


def check_text(value: object, what: str = "question", *, example: str = "", max_chars: int | None = None) -> str:
    """``value`` with its whitespace collapsed; empty (or longer than ``max_chars``) is a TutorError."""
    text = " ".join(str(value).split()) if value is not None else ""
    if not text:
        raise TutorError(f"The {what} is empty; {example or 'give a question or some keywords'}.")
    if max_chars is not None and len(text) > max_chars:
        raise TutorError(f"The {what} is {len(text)} characters long; keep it under {max_chars}.")
    return text


def check_top_k(top_k: object) -> int:
    """A passage count from 1 to ``TOP_K_MAX`` (a bool or a float is refused, not rounded)."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= TOP_K_MAX:
        raise TutorError(f"top-k must be a whole number between 1 and {TOP_K_MAX}, not {top_k}.")
    return top_k


def check_choice(value: str, choices, what: str) -> str:
    """``value`` if it is one of ``choices``, else "Unknown <what> 'x'; choose one of: a, b."."""
    if value not in choices:
        raise TutorError(f"Unknown {what} '{value}'; choose one of: {', '.join(map(str, choices))}.")
    return value
