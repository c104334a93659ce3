"""Whose uploads a learner may read: files uploaded on the page belong to the login that sent them.

The page copies each upload to ``<home>/uploads/<user folder>/`` and ingests it into the shared
"user" feed (one knowledge base, one BM25 index). So the rule is applied to search results: a
passage from another learner's upload folder is dropped before anything sees it. Files added
with ``tutor ingest PATH`` live elsewhere and stay visible to everyone on the machine: that is
the operator's own knowledge base.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from tutor.config import Settings


def uploads_root(settings: Settings) -> Path:
    return Path(settings.home).resolve() / "uploads"


def user_dir(settings: Settings, user: str) -> Path:
    """``<home>/uploads/<slug>-<hash>``: a readable, collision-free folder per user name."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", user).strip("_")[:40] or "user"
    digest = hashlib.sha256(user.encode()).hexdigest()[:8]
    return uploads_root(settings) / f"{slug}-{digest}"


class OwnUploadsOnly:
    """A retriever view that hides other learners' uploads (everything else passes unchanged)."""

    def __init__(self, retriever: Any, settings: Settings, user: str):
        self._search = getattr(retriever, "search", retriever)
        self._others = f"user:{uploads_root(settings)}/"
        self._mine = f"user:{user_dir(settings, user)}/"

    def visible(self, hit: Any) -> bool:
        source = getattr(hit, "source", "") or ""
        return not source.startswith(self._others) or source.startswith(self._mine)

    def search(self, query: str, top_k: int | None = None, **kw: Any) -> list:
        k = top_k or 5
        # Ask a little deeper so that dropping someone else's passages does not shorten the list.
        hits = self._search(query, top_k=min(100, k * 3), **kw)
        return [h for h in hits if self.visible(h)][:k]
