"""The runner for real: its own process, streaming, caps, cancellation, crashes, bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psutil
import pytest

from tutor.errors import TutorError
from tutor.lab.runner import run, start_run

pytestmark = pytest.mark.integration


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_run_streams_events_and_leaves_a_complete_record(lab_settings):
    seen = []
    handle = start_run("test-sleepy", {"epochs": 4, "seconds": 0.05}, on_event=seen.append)
    streamed = list(handle.events())
    result = handle.wait(timeout=60)
    assert result is not None and result.status == "ok"
    assert [e["epoch"] for e in streamed if e["type"] == "epoch"] == [1, 2, 3, 4]
    assert streamed[-1]["type"] == "done" and streamed[-1]["result"]["run_id"] == handle.run_id
    assert [e["type"] for e in seen] == [e["type"] for e in streamed]  # callback saw the same stream
    assert handle.pid != psutil.Process().pid and _gone(handle.pid)
    run_dir = Path(lab_settings.runs_dir) / handle.run_id
    record = json.loads((run_dir / "metrics.json").read_text())
    for key in ("run_id", "kind", "params", "status", "metrics", "history", "artifacts", "diagnosis",
                "started_at", "duration_s", "framework"):
        assert key in record, key
    assert record["history"] == result.history and len(record["history"]) == 4
    assert Path(record["artifacts"]["curves"]).stat().st_size > 1000
    assert any((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert record["diagnosis"]["verdict"] == "still_improving"


def test_a_crash_becomes_a_failed_result(lab_settings):
    result = run("test-crash", {})
    assert result.status == "failed"
    assert result.reason == "ValueError: the recipe broke on purpose"
    assert "Traceback" in Path(result.artifacts["error_log"]).read_text()
    assert result.history and result.history[0]["train_loss"] == 2.0  # what streamed before the crash is kept


@pytest.mark.slow
def test_the_time_cap_kills_a_stuck_run(lab_settings):
    start = time.monotonic()
    handle = start_run("test-stuck", {}, max_seconds=10)
    result = handle.wait(timeout=60)
    assert result.status == "timeout"
    assert "10 s" in result.reason
    assert 10 <= time.monotonic() - start < 30
    assert _gone(handle.pid)


def test_the_memory_cap_kills_a_run_that_grows(lab_settings):
    handle = start_run("test-hog", {"step_mb": 64, "max_mb": 4000}, max_memory_mb=900)
    result = handle.wait(timeout=120)
    assert result.status == "memory", result.reason
    assert "900 MB" in result.reason
    assert _gone(handle.pid)
    assert json.loads((Path(result.run_dir) / "metrics.json").read_text())["status"] == "memory"


@pytest.mark.slow
def test_cancel_stops_a_real_training_run(lab_settings):
    handle = start_run("cnn", {"epochs": 200, "image_size": 8})
    for event in handle.events():
        if event["type"] == "epoch":
            handle.cancel()
            break
    result = handle.wait(timeout=60)
    assert result.status == "cancelled"
    assert 1 <= len(result.history) < 200
    assert _gone(handle.pid)
    assert json.loads((Path(result.run_dir) / "metrics.json").read_text())["status"] == "cancelled"


def test_caps_are_validated(lab_settings):
    with pytest.raises(TutorError, match="max seconds"):
        start_run("test-sleepy", {}, max_seconds=-1)


def test_cancel_kills_a_recipe_that_ignores_it(lab_settings):
    handle = start_run("test-stuck", {}, max_seconds=300)
    for event in handle.events():
        if event["type"] == "epoch":  # setup() is done; train() now spins without checking
            started = time.monotonic()
            handle.cancel()
            break
    result = handle.wait(timeout=60)
    assert result.status == "cancelled" and "forcibly" in result.reason
    assert 4 <= time.monotonic() - started < 30  # the grace period, then a kill
    assert _gone(handle.pid)
