"""What every panel shares: the one ``Tutor``, the settings, who the user is, the first-launch build.

One ``PageContext`` serves every browser session. Per-session things live in ``gr.State`` (the
conversation) or, for what cannot be copied into a State (a ``threading.Event``), in
``PageContext.cancels`` keyed by Gradio's per-tab ``session_hash``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from tutor.config import Settings
from tutor.errors import TutorError

log = logging.getLogger("tutor.web")


class CorpusBuild:
    """Builds the default knowledge base in a background thread; the page polls ``snapshot()``."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self.state = "unknown"  # unknown | building | ready | failed
        self.stage = ""
        self.done: int | None = None
        self.total: int | None = None
        self.error = ""
        self.started = 0.0
        self.seconds = 0.0
        self._thread: threading.Thread | None = None
        self.on_ready: list[Callable[[], None]] = []

    def start(self) -> None:
        from knowledge.corpus_default import is_built

        try:
            built = is_built(self.settings)
        except Exception:  # noqa: BLE001 - an unreadable marker means "build it"
            built = False
        if built:
            self._set(state="ready")
            self._fire()
            return
        self._set(state="building", stage="starting", started=time.monotonic())
        self._thread = threading.Thread(target=self._build, name="corpus-build", daemon=True)
        self._thread.start()

    def _set(self, **kw: Any) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self, k, v)

    def _progress(self, done=None, total=None, stage="working", **_: Any) -> None:
        self._set(done=done, total=total, stage=str(stage))

    def _build(self) -> None:
        from knowledge.corpus_default import ensure_default_corpus

        try:
            ensure_default_corpus(self.settings, progress=self._progress, show_progress=False)
        except TutorError as exc:
            self._set(state="failed", error=str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - the page shows one line, the log the rest
            log.exception("building the knowledge base failed")
            self._set(state="failed", error=f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
            return
        self._set(state="ready", seconds=time.monotonic() - self.started)
        self._fire()

    def _fire(self) -> None:
        for fn in self.on_ready:
            try:
                fn()
            except Exception:  # noqa: BLE001
                log.exception("on_ready hook failed")

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"state": self.state, "stage": self.stage, "done": self.done, "total": self.total,
                    "error": self.error, "elapsed": time.monotonic() - self.started if self.started else 0.0}

    def line(self) -> str:
        """One sentence for the banner and the chat box."""
        s = self.snapshot()
        if s["state"] == "ready":
            return "The knowledge base is ready."
        if s["state"] == "failed":
            return f"Building the knowledge base failed: {s['error']}"
        pct = ""
        if s["done"] is not None and s["total"]:
            pct = f" {100 * s['done'] / s['total']:.0f}%"
        return (f"First start: building the knowledge base ({s['stage'] or 'starting'}{pct}, "
                f"{s['elapsed']:.0f} s so far). Questions work as soon as it is ready.")


@dataclass
class PageContext:
    settings: Settings
    tutor: Any
    auth: bool = False
    concurrency: int = 8
    corpus: CorpusBuild | None = None
    cancels: dict[str, threading.Event] = field(default_factory=dict)
    upload_lock: threading.Lock = field(default_factory=threading.Lock)

    def user(self, request: Any) -> str:
        """The learner of this request: the login name with auth, else the configured local user."""
        name = getattr(request, "username", None) if request is not None else None
        return str(name) if name else self.settings.user

    @staticmethod
    def browser(request: Any) -> str:
        return str(getattr(request, "session_hash", None) or "anonymous")


def readable(exc: BaseException) -> str:
    """One line for the learner, never a traceback."""
    if isinstance(exc, TutorError):
        return str(exc)
    return f"something went wrong ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"


def load_image(path: str | None):
    """The PNG as a PIL image: served from Gradio's cache, so the runs folder is never exposed."""
    if not path:
        return None
    try:
        from PIL import Image

        with Image.open(path) as img:
            img.load()
            return img.copy()
    except Exception:  # noqa: BLE001 - a missing figure is not worth a failed turn
        log.warning("could not read %s", path)
        return None
