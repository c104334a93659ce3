"""The ingestion ledger: which sources are in the store, with their content hash and node ids.

Kept in its own module because three parts read it: the pipeline writes it, the BM25 index
stamps itself with its generation, and the default corpus checks it. With the ledger inside
``pipeline.py`` those three imported each other in a circle.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tutor.config import Settings

LEDGER_VERSION = 1


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a reader sees the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class Ledger:
    """source → {hash, feed, scope, nodes}; persisted atomically after every change."""

    def __init__(self, settings: Settings):
        self.path = settings.state_dir / "ingest" / f"{settings.collection}.json"
        self.data: dict[str, Any] = {"version": LEDGER_VERSION, "generation": 0, "fingerprint": "", "sources": {}}
        if self.path.exists():
            try:
                loaded = json.loads(self.path.read_text())
                if loaded.get("version") == LEDGER_VERSION:
                    self.data = loaded
            except (OSError, ValueError):
                # A damaged ledger only costs re-embedding: ids are deterministic, nothing duplicates.
                pass

    @property
    def sources(self) -> dict[str, dict]:
        return self.data["sources"]

    @property
    def generation(self) -> int:
        return int(self.data.get("generation", 0))

    def save(self) -> None:
        self.data["generation"] = self.generation + 1
        atomic_write(self.path, json.dumps(self.data, separators=(",", ":")))

    def reset(self) -> None:
        self.data["sources"] = {}
        self.save()
