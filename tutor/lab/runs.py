"""The run store: every run is a folder ``<runs_dir>/<run_id>/`` holding ``metrics.json``.

Reading never trusts the files: a corrupt or half-written record is reported, not raised
through, and nothing here ever deletes or rewrites a run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tutor.config import Settings, get_settings
from tutor.errors import TutorError

METRICS_FILE = "metrics.json"


def runs_dir(settings: Settings | None = None) -> Path:
    return Path((settings or get_settings()).runs_dir)


def _pid_alive(pid: int) -> bool:
    import psutil

    return psutil.pid_exists(int(pid))


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "run_id" not in data:
        return None
    # A run whose launcher died mid-run keeps saying "running" forever; say what it is.
    if data.get("status") == "running" and data.get("parent_pid") and not _pid_alive(data["parent_pid"]):
        data["status"] = "interrupted"
        data.setdefault("reason", "the program that launched this run exited before it finished")
    return data


def list_runs(settings: Settings | None = None, kind: str | None = None, limit: int | None = None) -> list[dict]:
    """Short rows, newest first: run_id, kind, status, started_at, duration_s, primary metric and value."""
    root = runs_dir(settings)
    rows = []
    if root.is_dir():
        for path in root.glob(f"*/{METRICS_FILE}"):
            data = _read(path)
            if data is None or (kind and data.get("kind") != kind):
                continue
            metric = data.get("primary_metric", "test_accuracy")
            rows.append({
                "run_id": data["run_id"], "kind": data.get("kind"), "status": data.get("status"),
                "started_at": data.get("started_at"), "duration_s": data.get("duration_s"),
                "primary_metric": metric, "value": (data.get("metrics") or {}).get(metric),
                "verdict": (data.get("diagnosis") or {}).get("verdict"), "framework": data.get("framework"),
            })
    rows.sort(key=lambda r: (r.get("started_at") or "", r["run_id"]), reverse=True)
    return rows[:limit] if limit else rows


def resolve_run_id(run_id: str, settings: Settings | None = None) -> Path:
    """The run's folder; a unique prefix of its id is enough (``cnn-20260101``)."""
    root = runs_dir(settings)
    if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith("."):
        raise TutorError(f"'{run_id}' is not a run id; `tutor experiment show` ids look like cnn-20260101-120000-ab12")
    exact = root / run_id
    if (exact / METRICS_FILE).is_file():
        return exact
    matches = sorted(p.parent for p in root.glob(f"{run_id}*/{METRICS_FILE}")) if root.is_dir() else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        names = ", ".join(m.name for m in matches[:5])
        raise TutorError(f"'{run_id}' matches {len(matches)} runs ({names}); give more of the id")
    raise TutorError(f"no run '{run_id}' under {root}; `tutor experiment runs` lists the runs")


def load_run(run_id: str, settings: Settings | None = None) -> dict[str, Any]:
    """The full run record (the run JSON) of one run."""
    folder = resolve_run_id(run_id, settings)
    data = _read(folder / METRICS_FILE)
    if data is None:
        raise TutorError(f"the record of run {folder.name} is unreadable ({folder / METRICS_FILE}); it was left as is")
    return data
