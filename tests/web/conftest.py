"""Page tests: the real app in a subprocess, driven by Debian's Chromium through Playwright.

``app`` starts ``python -m tests.web.launcher`` (app.py with the scripted LLM injected, see
launcher.py) on a free loopback port, with logins on and a fresh data dir that the app fills on
its first start with the small default corpus (roadmap + paper notes, no API docs). Retrieval,
memory (SQLite), the lab and the browser are real; only the model is scripted.

Screenshots go to ``$TUTOR_SCREENSHOTS_DIR`` when set (docs/screenshots/ is made that way),
else to a temp folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: One login per test (and two for the isolation test): tests never see each other's sessions.
USERS = {name: f"pw-{name}" for name in ("ada", "alice", "bob", "grace", "linus", "quinn", "runa", "stop", "upload")}
BUILD_TIMEOUT_S = 900


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(home: Path, *, auth: bool, extra: dict | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    env.update({
        "TUTOR_HOME": str(home), "TUTOR_DOCS_PACKAGES": "[]", "TUTOR_LLM_PRESET": "smollm2-135m",
        "TUTOR_LAB_DEVICE": "cpu", "TUTOR_TEST_SCRIPTED_LLM": "1", "TUTOR_TEST_LLM_DELAY": "0.02",
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "KERAS_BACKEND": "torch",
        "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1",
    })
    if auth:
        env["TUTOR_AUTH"] = ",".join(f"{u}:{p}" for u, p in USERS.items())
    env.update(extra or {})
    return env


class AppServer:
    """app.py in its own process group (so its experiment processes go with it)."""

    def __init__(self, home: Path, *, auth: bool, extra_env: dict | None = None, args: tuple = ()):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home.parent / f"app-{self.port}.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.web.launcher", "--port", str(self.port), *args],
            cwd=ROOT, env=app_env(home, auth=auth, extra=extra_env), stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def wait_http(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"app.py did not answer on {self.url} in {timeout:.0f} s:\n{self.log_tail()}")

    def wait_corpus(self, timeout: float = BUILD_TIMEOUT_S) -> None:
        from knowledge.corpus_default import is_built
        from tutor.config import Settings

        settings = Settings(home=self.home, docs_packages=[])
        deadline = time.monotonic() + timeout
        while not is_built(settings):
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the knowledge base was not built in {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(1)

    def stop(self) -> None:
        import signal

        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
        self._log.close()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium (installed with apt by scripts/ensure_browser.sh when missing)."""
    if not Path(CHROMIUM).exists():
        if shutil.which("apt-get") is None:
            pytest.skip(f"{CHROMIUM} is missing and apt-get is not available to install it")
        result = subprocess.run(["bash", str(ROOT / "scripts" / "ensure_browser.sh")], capture_output=True,
                                text=True, timeout=1200)
        if result.returncode == 3:
            pytest.skip(f"cannot install Chromium here: {result.stderr.strip()}")
        if result.returncode != 0:
            pytest.fail(f"scripts/ensure_browser.sh failed ({result.returncode}): {result.stderr.strip()[-800:]}")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra: pip install -e '.[dev]'")
    with sync_api.sync_playwright() as p:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        b = p.chromium.launch(executable_path=chromium, args=args)
        yield b
        b.close()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The page with logins on, its knowledge base built on its own first start."""
    home = tmp_path_factory.mktemp("web") / "home"
    home.mkdir()
    server = AppServer(home, auth=True)
    try:
        server.wait_http()
        server.wait_corpus()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    where = os.environ.get("TUTOR_SCREENSHOTS_DIR")
    path = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
