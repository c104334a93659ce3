"""Shipped embeddings of the default corpus, so a new machine does not spend minutes on them.

An embedding depends only on the model, the backend (and its export recipe) and the exact text
embedded. The roadmap and the paper notes are the same on every machine, and so are the API
docs of the pinned library versions (``constraints.txt``). So the vectors of every chunk of the
default corpus ship in ``knowledge/corpus/embeddings/<model key>.npz``, keyed by a hash of
(model key, text); the model key (``knowledge.embed.model_key``) names the model, the backend
and the ONNX export recipe. At ingestion, ``TutorEmbedding`` takes each chunk's vector from here when its
key is present and runs the encoder only for the others: a chunk whose text differs (another
version of a library, the learner's own files, an edited note) is embedded as before, so a
stale cache costs time, never wrong vectors.

Stored as float16: 2 bytes a dimension instead of 4, and the rounding (~1e-3 relative) is far
below the int8 encoder's own difference to fp32 (cosine ~0.997). Keys are the first 8 bytes of
a SHA-256 as uint64: ~10^4 entries make a collision vanishingly unlikely.

Rebuild after changing the notes, the chunking, the model or the pinned libraries:

    python -m knowledge.ship_embeddings        # embeds only the chunks the cache lacks
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

CACHE_DIR = Path(__file__).resolve().parent / "corpus" / "embeddings"


def text_key(model: str, text: str) -> int:
    digest = hashlib.sha256(f"{model}\x00{text}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def cache_path(model: str, folder: Path | None = None) -> Path:
    return (folder or CACHE_DIR) / f"{model}.npz"


class EmbeddingCache:
    """A read-only map text → vector for one model key (empty when no file ships for it)."""

    def __init__(self, model: str, path: Path | None = None):
        self.model = model
        self.path = path or cache_path(model)
        self.index: dict[int, int] = {}
        self.vectors = np.zeros((0, 0), dtype=np.float16)
        if self.path.is_file():
            data = np.load(self.path)
            self.vectors = data["vectors"]
            self.index = {int(k): i for i, k in enumerate(data["keys"])}

    def __len__(self) -> int:
        return len(self.index)

    def lookup(self, texts: list[str]) -> tuple[dict[int, np.ndarray], list[int]]:
        """``({position: vector}, [positions missing])`` for ``texts``."""
        found: dict[int, np.ndarray] = {}
        missing: list[int] = []
        for pos, text in enumerate(texts):
            row = self.index.get(text_key(self.model, text)) if self.index else None
            if row is None:
                missing.append(pos)
            else:
                found[pos] = self.vectors[row].astype(np.float32)
        return found, missing


_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _load(model: str, path: str) -> EmbeddingCache:
    return EmbeddingCache(model, Path(path))


def shipped_cache(model: str) -> EmbeddingCache:
    """The process-wide shipped cache for a model key (empty when none ships for it)."""
    with _LOCK:
        return _load(model, str(cache_path(model)))


def write_cache(model: str, keys: np.ndarray, vectors: np.ndarray, path: Path | None = None) -> Path:
    """Write a cache file atomically, rows sorted by key (a rebuild of the same corpus keeps the same order)."""
    path = path or cache_path(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    order = np.argsort(keys, kind="stable")
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, keys=keys[order].astype(np.uint64), vectors=vectors[order].astype(np.float16))
    os.replace(tmp, path)
    return path
