"""A warm spare runs exactly one job, with the same isolation and result as a cold run."""

from __future__ import annotations

import pytest

from tutor.lab.runner import start_run
from tutor.lab.warm import POOL


@pytest.mark.slow
def test_warm_spare_serves_one_run_then_is_replaced(lab_settings):
    POOL.start()
    try:
        spare = POOL._spare
        handle = start_run("test-sleepy", {"epochs": 2, "seconds": 0.01}, settings=lab_settings)
        assert handle.warm and handle.pid == spare.process.pid
        result = handle.wait(120)
        assert result.status == "ok", result.reason
        assert [h["epoch"] for h in result.history] == [1, 2]
        assert POOL._spare is not None and POOL._spare.process.pid != spare.process.pid  # refilled after the run
        second = start_run("test-sleepy", {"epochs": 1, "seconds": 0.01}, settings=lab_settings)
        r2 = second.wait(120)
        assert second.warm and r2.status == "ok", r2.reason
    finally:
        POOL.stop()
    cold = start_run("test-sleepy", {"epochs": 1, "seconds": 0.01}, settings=lab_settings)
    assert not cold.warm and cold.wait(120).status == "ok"
