"""A quiet terminal: library warnings and logs go to $TUTOR_HOME/logs/tutor.log; `tutor -v` shows them.

The real check runs the CLI as a subprocess on a fresh data dir: its first search builds the
small corpus (roadmap + papers, no package docs) and exports the ONNX embedder, which is where
torch, transformers, onnxruntime, llama_index and bm25s warn and log. The last test keeps the
CLI's start-up light (no heavy library imported before a command needs it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOISE = ("Warning", "WARNING", "DEBUG")


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    env.update(PYTHONPATH=str(REPO), TUTOR_HOME=str(home), **extra)
    return env


def tutor(home: Path, *args: str, timeout: float = 900, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tutor.cli", *args], cwd=REPO, env=_env(home, **extra),
                          capture_output=True, text=True, timeout=timeout)


def noise(stderr: str) -> list[str]:
    return [line for line in stderr.replace("\r", "\n").splitlines() if any(word in line for word in NOISE)]


@pytest.mark.slow
@pytest.mark.integration
def test_search_on_a_fresh_home_prints_no_library_noise_and_logs_it(tmp_path):
    home = tmp_path / "home"
    out = tutor(home, "search", "dropout", "--top-k", "1", TUTOR_DOCS_PACKAGES="[]")
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("[1] ")
    assert noise(out.stderr) == [], out.stderr[-3000:]
    log = (home / "logs" / "tutor.log").read_text()
    # The ONNX export's Python warnings (torch/transformers) and libraries' log records landed here.
    assert "WARNING py.warnings:" in log
    assert "WARNING" in log.replace("WARNING py.warnings:", "")

    # Adding a file rebuilds the BM25 index (bm25s logs at DEBUG): quiet by default, shown with -v.
    note = tmp_path / "note.md"
    note.write_text("# Notes\n\nDropout zeroes activations at random during training.\n")
    quiet = tutor(home, "ingest", str(note), TUTOR_DOCS_PACKAGES="[]")
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert noise(quiet.stderr) == [], quiet.stderr[-3000:]
    note.write_text("# Notes\n\nDropout zeroes activations at random; evaluation uses them all.\n")
    loud = tutor(home, "-v", "ingest", str(note), TUTOR_DOCS_PACKAGES="[]")
    assert loud.returncode == 0, loud.stderr[-3000:]
    assert noise(loud.stderr), loud.stderr[-3000:]
    assert "1 updated" in loud.stdout


SCRIPT = textwrap.dedent(
    """
    import logging, sys, warnings
    from tutor.config import get_settings
    from tutor.logs import setup_logging

    path = setup_logging(get_settings(), verbose=sys.argv[1] == "1")
    setup_logging(get_settings(), verbose=sys.argv[1] == "1")   # twice: replaces, does not duplicate
    warnings.warn("a python warning", UserWarning)
    logging.warning("a root record")               # would call basicConfig (stderr) if root had no handler
    logging.getLogger("somelib").info("an info record")
    import huggingface_hub.utils.logging as hub     # both install a stderr handler of their own
    hub.get_logger("huggingface_hub.x").warning("a hub record")
    import transformers.utils.logging as tf
    tf.get_logger("transformers.x").warning("a transformers record")
    print(path)
    """
)
MESSAGES = ("a python warning", "a root record", "an info record", "a hub record", "a transformers record")


@pytest.mark.parametrize("verbose", [False, True])
def test_setup_logging_routes_warnings_and_library_loggers(tmp_path, verbose):
    out = subprocess.run([sys.executable, "-c", SCRIPT, "1" if verbose else "0"], cwd=REPO,
                         env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    path = Path(out.stdout.strip())
    assert path == tmp_path / "logs" / "tutor.log"
    log = path.read_text()
    for message in MESSAGES:
        assert log.count(message) == 1, (message, log)
        assert (message in out.stderr) is verbose, out.stderr
    if verbose:
        assert all(out.stderr.count(message) == 1 for message in MESSAGES), out.stderr
    else:
        assert out.stderr == ""


def test_verbose_is_a_global_option(tmp_path):
    out = tutor(tmp_path / "home", "--help", timeout=60)
    assert out.returncode == 0 and "--verbose" in out.stdout and out.stderr == ""
    out = tutor(tmp_path / "home", "-v", "models", "--json", timeout=60)
    assert out.returncode == 0, out.stderr


def test_cli_and_command_modules_import_no_heavy_library():
    """`tutor --help` stays fast: heavy libraries are imported inside the commands that use them."""
    code = ("import sys, tutor.cli as cli; cli._register(); "
            "print(' '.join(m for m in ('torch', 'transformers', 'llama_index', 'qdrant_client', 'gradio', "
            "'onnxruntime', 'numpy', 'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=_env(REPO / "absent-home"),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
