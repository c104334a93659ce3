"""Rebuild the shipped embeddings of the default corpus (``knowledge/corpus/embeddings``).

    python -m knowledge.ship_embeddings        # embeds only the chunks the file lacks

Run it after changing the paper notes or the roadmap, the chunking, the embedding model or
the pinned library versions whose API docs are in the default corpus; commit the .npz file.
``knowledge.embed_cache`` says why the vectors ship and how they are keyed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from knowledge.embed import get_encoder, model_key
from knowledge.embed_cache import EmbeddingCache, text_key, write_cache
from tutor.config import Settings, get_settings


def default_corpus_texts(settings: Settings | None = None, progress: bool = True) -> list[str]:
    """The exact texts the pipeline embeds for the default corpus (roadmap, papers, core docs)."""
    from llama_index.core.schema import MetadataMode
    from tqdm.auto import tqdm

    from knowledge.corpus_default import (
        docs_documents,
        paper_documents,
        roadmap_documents,
    )
    from knowledge.parse import TutorNodeParser
    from knowledge.pipeline import RepairText

    settings = settings or get_settings()
    groups = [roadmap_documents(), paper_documents()[0]]
    for package in tqdm(settings.docs_packages, desc="reading docs", disable=not progress):
        groups.append(docs_documents(package))
    parser = TutorNodeParser()
    texts: list[str] = []
    for docs in groups:
        for node in parser(RepairText()(list(docs))):
            texts.append(node.get_content(metadata_mode=MetadataMode.EMBED))
    return texts


def build(settings: Settings | None = None, progress: bool = True) -> tuple[Path, int, int]:
    """Bring the shipped cache in line with the default corpus; returns (path, entries, newly embedded).

    Entries of texts no longer in the corpus are dropped, so the file does not grow forever.
    """
    from tqdm.auto import tqdm

    settings = settings or get_settings()
    model = model_key(settings)
    texts = sorted(set(default_corpus_texts(settings, progress)))
    old = EmbeddingCache(model)
    found, missing = old.lookup(texts)
    vectors = np.zeros((len(texts), 0), dtype=np.float32)
    if missing:
        encoder = get_encoder(settings)
        parts = []
        step = 256
        for start in tqdm(range(0, len(missing), step), desc="embedding", disable=not progress):
            parts.append(encoder.encode([texts[i] for i in missing[start : start + step]]))
        new = dict(zip(missing, np.concatenate(parts)))
    else:
        new = {}
    dim = next(iter(found.values()), next(iter(new.values()), None)).shape[0]
    vectors = np.zeros((len(texts), dim), dtype=np.float32)
    for pos in range(len(texts)):
        vectors[pos] = found[pos] if pos in found else new[pos]
    keys = np.array([text_key(model, t) for t in texts], dtype=np.uint64)
    return write_cache(model, keys, vectors), len(texts), len(new)


if __name__ == "__main__":
    import time

    started = time.perf_counter()
    path, entries, embedded = build()
    print(f"{path}: {entries} vectors ({embedded} newly embedded) in {time.perf_counter() - started:.0f}s")
