"""app.py's arguments and TUTOR_AUTH parsing (no server is started)."""

from __future__ import annotations

import pytest

import app
from tutor.errors import TutorError
from tutor.web.server import parse_auth


def test_defaults_are_local_and_private():
    args = app.parse_args([])
    assert (args.host, args.port, args.share, args.concurrency) == ("127.0.0.1", 7860, False, 8)


def test_bad_port_is_refused():
    with pytest.raises(SystemExit):
        app.parse_args(["--port", "70000"])


def test_auth_pairs():
    assert parse_auth(None) is None and parse_auth("  ") is None
    assert parse_auth("ada:pw, alan:p:w:2,") == [("ada", "pw"), ("alan", "p:w:2")]
    for bad in ("ada", "ada:", ":pw", "ada:a,ada:b"):
        with pytest.raises(TutorError):
            parse_auth(bad)


def test_importing_app_is_light():
    """The lab's spawned children import the main module again: app.py must not pull in gradio or torch."""
    import subprocess
    import sys

    code = "import sys, app; print(sorted(m for m in ('gradio', 'torch', 'tutor.web.page') if m in sys.modules))"
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout.strip()
    assert out == "[]"
