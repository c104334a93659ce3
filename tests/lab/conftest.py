"""Lab fixtures: fresh data dirs, the test-only recipes, and a few real runs shared by tests.

Runs cost a process start (torch import) plus training, so the real cnn runs that several
test modules look at are made once per session and started concurrently.
"""

from __future__ import annotations

import pytest

import tests.lab._recipes  # noqa: F401  (registers test-sleepy, test-stuck, test-hog, test-crash)

# Short CI settings for the CNN that must still clear the 0.95 bar.
CNN_CI = {"epochs": 8, "image_size": 8, "seed": 0}


@pytest.fixture
def lab_settings(tutor_home):
    from tutor.config import get_settings

    return get_settings()


@pytest.fixture(scope="session")
def session_settings(tmp_path_factory):
    from tutor.config import Settings

    return Settings(home=tmp_path_factory.mktemp("lab-home"))


@pytest.fixture(scope="session")
def cnn_runs(session_settings):
    """Three real cnn runs: A and B identical (reproducibility), C with a smaller learning rate (compare)."""
    from tutor.lab.runner import start_run

    handles = {
        "a": start_run("cnn", CNN_CI, settings=session_settings),
        "b": start_run("cnn", CNN_CI, settings=session_settings),
        "c": start_run("cnn", {**CNN_CI, "lr": 0.001}, settings=session_settings),
    }
    return {name: h.wait() for name, h in handles.items()}
