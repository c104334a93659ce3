"""A real small corpus and the real tiny model, shared by the agent tests.

The corpus is the project's default corpus with no API-docs packages (roadmap + paper notes):
built once per session with the real pipeline (embedded Qdrant, ONNX embeddings, BM25), so
`tutor ask` in a subprocess sees a finished corpus and does not rebuild it.
"""

from __future__ import annotations

import os

import pytest

SMALL_CORPUS_ENV = {
    "TUTOR_DOCS_PACKAGES": "[]",
    "TUTOR_LLM_PRESET": "smollm2-135m",
    "TUTOR_MAX_NEW_TOKENS": "48",
    "TUTOR_CONTEXT_WINDOW": "2048",
    "HF_HUB_OFFLINE": "1",
}


@pytest.fixture(scope="session")
def corpus_home(tmp_path_factory):
    """Data dir holding the small default corpus; env vars restored afterwards."""
    from knowledge.corpus_default import ensure_default_corpus
    from tutor.config import get_settings

    home = tmp_path_factory.mktemp("agent-home")
    saved = {k: os.environ.get(k) for k in [*SMALL_CORPUS_ENV, "TUTOR_HOME"]}
    os.environ.update(SMALL_CORPUS_ENV, TUTOR_HOME=str(home))
    get_settings.cache_clear()
    try:
        ensure_default_corpus(show_progress=False)
    finally:
        # Restore at once, not at session end: this fixture is session-scoped, and leaving
        # TUTOR_DOCS_PACKAGES=[] set would silently shrink every later test's default corpus.
        # Tests that use the corpus get these variables again through `agent_env`.
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()
    yield home


@pytest.fixture
def agent_env(corpus_home, monkeypatch):
    """Settings pointing at the small corpus and the tiny model, for one test."""
    from tutor.config import get_settings

    for k, v in SMALL_CORPUS_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("TUTOR_HOME", str(corpus_home))
    monkeypatch.delenv("TUTOR_CONFIG", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def tiny_llm():
    """SmolLM2-135M through the default llama.cpp backend, short answers."""
    from tutor.config import Settings
    from tutor.llm.load import load_llm

    # One thread: on 2 busy cores a second llama.cpp thread made a reply 10x slower (docs/testing.md).
    return load_llm(Settings(llm_preset="smollm2-135m", max_new_tokens=48, context_window=2048, temperature=0.0,
                             n_threads=1))
