"""Fixtures every test package may use. Package-specific ones live in tests/<pkg>/conftest.py."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture
def tutor_home(tmp_path, monkeypatch):
    """A fresh, empty data dir; settings are re-read so every layer sees it."""
    from tutor.config import get_settings

    home = tmp_path / "home"
    home.mkdir()
    # Start from the defaults: a TUTOR_* variable left by the caller's shell or another
    # fixture must not change what a test sees.
    for name in [n for n in os.environ if n.startswith("TUTOR_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TUTOR_HOME", str(home))
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
