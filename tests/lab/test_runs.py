"""The run store lists and loads runs, and copes with damaged records without losing them."""

from __future__ import annotations

import json

import pytest

from tutor.errors import TutorError
from tutor.lab.runs import list_runs, load_run


@pytest.mark.slow
def test_runs_are_listed_and_loaded_by_prefix(cnn_runs, session_settings):
    rows = list_runs(session_settings)
    ids = {r["run_id"] for r in rows}
    assert {r.run_id for r in cnn_runs.values()} <= ids
    a = cnn_runs["a"]
    row = next(r for r in rows if r["run_id"] == a.run_id)
    assert row["value"] == a.metrics["test_accuracy"] and row["status"] == "ok"
    prefix = a.run_id[:-1]
    if sum(i.startswith(prefix) for i in ids) == 1:  # ids end in random hex: usually unique
        assert load_run(prefix, session_settings)["run_id"] == a.run_id  # a unique prefix is enough
    else:
        with pytest.raises(TutorError, match="give more of the id"):
            load_run(prefix, session_settings)
    assert load_run(a.run_id, session_settings)["metrics"] == a.metrics


def test_bad_ids_and_corrupt_records_are_clear_errors(lab_settings):
    with pytest.raises(TutorError, match="no run 'cnn-nothing'"):
        load_run("cnn-nothing")
    with pytest.raises(TutorError, match="not a run id"):
        load_run("../etc")
    broken = lab_settings.runs_dir / "cnn-20260101-000000-dead"
    broken.mkdir(parents=True)
    (broken / "metrics.json").write_text("{not json")
    with pytest.raises(TutorError, match="unreadable"):
        load_run("cnn-20260101-000000-dead")
    assert (broken / "metrics.json").read_text() == "{not json"  # left as is
    assert list_runs() == []  # skipped, not crashed


def test_a_run_whose_launcher_died_shows_as_interrupted(lab_settings):
    folder = lab_settings.runs_dir / "cnn-20260101-000000-beef"
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(
        {"run_id": folder.name, "kind": "cnn", "status": "running", "parent_pid": 2**22 + 12345}))
    assert load_run(folder.name)["status"] == "interrupted"
