"""Where library warnings and log records go: a rotating file, never the user's terminal.

The terminal of `tutor ask`/`ingest`/`search` carries progress, answers and one-line errors
only. Everything else — Python warnings (a torch ``TracerWarning``), records of libraries'
loggers (onnxruntime, llama_index, bm25s, transformers) and the project's own — goes to
``$TUTOR_HOME/logs/tutor.log`` (rotating: 5 MB x 3 backups). ``tutor -v`` also prints them
on stderr.

    from tutor.logs import setup_logging
    setup_logging(get_settings(), verbose=False)   # once, at the start of a command

A leaf: it imports tutor.config only, and nothing heavy (a face calls it before any library
loads, so the libraries find the root logger configured and do not add their own stderr
handler with ``logging.basicConfig``).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import logging.handlers
import sys
from pathlib import Path
from types import ModuleType

from tutor.config import Settings

LOG_FILE = "tutor.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3
FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


def log_path(settings: Settings) -> Path:
    """``$TUTOR_HOME/logs/tutor.log``."""
    return settings.home / "logs" / LOG_FILE


class _TutorHandler:
    """Marks the handlers this module installed, so a second setup replaces them."""


class _FileHandler(logging.handlers.RotatingFileHandler, _TutorHandler):
    pass


class _StderrHandler(logging.StreamHandler, _TutorHandler):
    pass


class _NullHandler(logging.NullHandler, _TutorHandler):
    pass


# --- libraries that print to stderr through a handler of their own ----------------------------
# transformers and huggingface_hub attach a StreamHandler(stderr) to their top logger when
# their logging module is imported (transformers also stops propagation). Once that module is
# imported, drop that handler and let the records propagate to the root logger, i.e. to ours.


def _adopt_transformers(module: ModuleType) -> None:
    module.disable_default_handler()
    module.enable_propagation()


def _adopt_hf_hub(module: ModuleType) -> None:
    logger = logging.getLogger("huggingface_hub")
    for handler in list(logger.handlers):
        if type(handler) is logging.StreamHandler:
            logger.removeHandler(handler)
    logger.propagate = True


_ADOPT = {
    "transformers.utils.logging": _adopt_transformers,
    "huggingface_hub.utils.logging": _adopt_hf_hub,
}


class _AdoptOnImport(importlib.abc.MetaPathFinder):
    """Runs the matching ``_ADOPT`` function right after one of those modules is executed."""

    def find_spec(self, fullname, path, target=None):
        adopt = _ADOPT.get(fullname)
        if adopt is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            try:
                adopt(module)
            except Exception:  # a changed library API must not break the import
                logging.getLogger(__name__).debug("could not adopt the logger of %s", fullname, exc_info=True)

        spec.loader.exec_module = exec_module  # this loader instance belongs to this one module
        return spec


def _adopt_library_loggers() -> None:
    for name, adopt in _ADOPT.items():
        module = sys.modules.get(name)
        if module is not None:
            try:
                adopt(module)
            except Exception:
                logging.getLogger(__name__).debug("could not adopt the logger of %s", name, exc_info=True)
    if not any(isinstance(finder, _AdoptOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AdoptOnImport())


def setup_logging(settings: Settings, verbose: bool = False) -> Path | None:
    """Send warnings and log records (INFO and up, plus what a library logs below that on its own
    loggers) to the rotating log file; with ``verbose`` to stderr as well. Returns the log file's
    path, or None when it cannot be written (then records are dropped, still not printed).
    Calling it again replaces what an earlier call set up."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _TutorHandler):
            root.removeHandler(handler)
            handler.close()
    formatter = logging.Formatter(FORMAT)

    path: Path | None = log_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler: logging.Handler = _FileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
        )
        file_handler.setFormatter(formatter)
    except OSError:  # a read-only data dir: keep the terminal quiet all the same
        path = None
        file_handler = _NullHandler()
    root.addHandler(file_handler)
    if verbose:
        stderr_handler = _StderrHandler(sys.stderr)
        stderr_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(stderr_handler)
    root.setLevel(logging.INFO)

    # warnings.warn(...) -> the "py.warnings" logger (Python's filters still decide which are shown).
    logging.captureWarnings(True)
    _adopt_library_loggers()
    return path
