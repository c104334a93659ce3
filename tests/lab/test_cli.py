"""`tutor experiment ...` through a real subprocess, as a user types it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def tutor(*args: str, home, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "TUTOR_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "tutor.cli", "experiment", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


def test_list_json_describes_every_kind_with_bounds(tmp_path):
    proc = tutor("list", "--json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    kinds = {k["kind"]: k for k in json.loads(proc.stdout)}
    assert {"cnn", "rnn"} <= set(kinds)
    epochs = next(p for p in kinds["cnn"]["params"] if p["name"] == "epochs")
    assert (epochs["min"], epochs["max"], epochs["default"]) == (1, 200, 15)
    cell = next(p for p in kinds["rnn"]["params"] if p["name"] == "cell")
    assert cell["choices"] == ["lstm", "gru", "rnn"]


BAD = [
    (["run", "nope"], "unknown experiment 'nope'; choose one of"),
    (["run", "cnn", "--epochs", "0"], "epochs must be an integer between 1 and 200 (got 0)"),
    (["run", "cnn", "--epochs", "1000000"], "epochs must be an integer between 1 and 200 (got 1000000)"),
    (["run", "cnn", "--lr", "-0.1"], "lr must be a number greater than 0 and at most 1 (got -0.1)"),
    (["run", "cnn", "--epochs", "three"], "epochs must be an integer between 1 and 200 (got 'three')"),
    (["run", "cnn", "--wings", "2"], "unknown parameter 'wings' for cnn"),
    (["run", "cnn", "--image-size", "12"], "image_size must be one of 8, 28 (got 12)"),
    (["run", "cnn", "--augmentation", "false"], "unrecognized arguments: false (a true/false parameter is a flag"),
    (["run", "mlp-uat", "--widths", "0,4"], "widths: every width must be between 1 and 1024"),
    (["show", "cnn-missing"], "no run 'cnn-missing'"),
]


@pytest.mark.slow
def test_bad_input_is_one_line_without_traceback(tmp_path):
    for args, message in BAD:
        proc = tutor(*args, home=tmp_path)
        assert proc.returncode != 0, args
        assert proc.stderr.strip() == f"error: {message}" or proc.stderr.strip().startswith(f"error: {message}"), (
            args, proc.stderr)
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_run_show_and_compare_from_the_command_line(tmp_path):
    first = tutor("run", "cnn", "--epochs", "2", "--no-augmentation", "--json", home=tmp_path)
    assert first.returncode == 0, first.stderr
    a = json.loads(first.stdout)
    assert a["status"] == "ok" and a["params"]["augmentation"] is False and len(a["history"]) == 2
    assert "epoch 2/2" in first.stderr  # progress went to stderr
    second = tutor("run", "cnn", "--epochs", "2", "--batch-size", "64", "--json", home=tmp_path)
    b = json.loads(second.stdout)
    assert b["params"]["batch_size"] == 64

    shown = tutor("show", a["run_id"], "--json", home=tmp_path)
    assert json.loads(shown.stdout)["metrics"] == a["metrics"]
    human = tutor("show", a["run_id"], home=tmp_path)
    assert "diagnosis (" in human.stdout and "test_accuracy=" in human.stdout

    cmp = tutor("compare", a["run_id"], b["run_id"], "--json", home=tmp_path)
    data = json.loads(cmp.stdout)
    assert set(data["params_diff"]) == {"augmentation", "batch_size"}
    assert os.path.exists(data["plot"])
    listed = tutor("runs", "--json", home=tmp_path)
    assert {r["run_id"] for r in json.loads(listed.stdout)} == {a["run_id"], b["run_id"]}


@pytest.mark.slow
def test_ctrl_c_cancels_the_run_cleanly(tmp_path):
    import signal
    import time

    env = {**os.environ, "TUTOR_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    # Its own session, so the SIGINT below reaches the CLI and its run process, as a
    # terminal's Ctrl-C does, and nothing else.
    proc = subprocess.Popen([sys.executable, "-m", "tutor.cli", "experiment", "run", "cnn", "--epochs", "200", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True,
                            # A terminal's foreground job has SIGINT at its default. A test runner
                            # started as a background job inherits SIGINT *ignored*, and Python
                            # then installs no KeyboardInterrupt handler: restore the default.
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 240
    for line in proc.stderr:
        if line.startswith("epoch 1/200"):
            os.killpg(proc.pid, signal.SIGINT)
            break
        assert time.monotonic() < deadline
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    record = json.loads(out)
    assert record["status"] == "cancelled" and len(record["history"]) < 200
    assert "Traceback" not in err and f"error: run {record['run_id']} ended cancelled" in err
