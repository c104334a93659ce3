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
