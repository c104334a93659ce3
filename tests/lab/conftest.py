"""Lab fixtures: a fresh data dir per test and the test-only recipes registered."""

from __future__ import annotations

import pytest

import tests.lab._recipes  # noqa: F401  (registers test-sleepy, test-stuck, test-hog, test-crash)


@pytest.fixture
def lab_settings(tutor_home):
    from tutor.config import get_settings

    return get_settings()
