"""`tutor eval compare RUN_A RUN_B`: per-metric deltas between two eval reports.

    tutor eval compare runs/base runs/adapter          # two --out dirs: every suite both hold
    tutor eval compare a/knowledge.json b/knowledge.json

A RUN is a report JSON written by any suite, or an --out directory (each ``<suite>.json`` in it).
Prints, per suite, a Markdown table: metric, A, B, B - A. Nested metric tables (``detail``,
``per_category``) are flattened with dots; metrics only one side has show a dash on the other.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from evals.report import markdown_table
from tutor.errors import TutorError


def load_reports(path: str | Path) -> dict[str, dict]:
    """Reports by suite name from a report file or an --out directory."""
    path = Path(path)
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not path.exists():
        raise TutorError(f"no eval report at {path}; pass a report .json or an --out directory.")
    reports: dict[str, dict] = {}
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            if path.is_dir():
                continue
            raise TutorError(f"{f} is not an eval report (not JSON).") from None
        if isinstance(data, dict) and "suite" in data and isinstance(data.get("metrics"), dict):
            reports[data["suite"]] = data
        elif not path.is_dir():
            raise TutorError(f"{f} is not an eval report (no suite and metrics).")
    if not reports:
        raise TutorError(f"{path} holds no eval report.")
    return reports


def flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in metrics.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = float(v)
    return out


def compare(a: dict, b: dict) -> list[list[Any]]:
    """Rows [metric, A, B, delta] over the union of both reports' numeric metrics."""
    fa, fb = flatten(a["metrics"]), flatten(b["metrics"])
    rows = []
    for key in list(fa) + [k for k in fb if k not in fa]:
        va, vb = fa.get(key), fb.get(key)
        rows.append([key, va, vb, f"{vb - va:+.3f}" if va is not None and vb is not None else None])
    return rows


def _label(r: dict) -> str:
    return f"{r.get('model')}{' + ' + Path(str(r['adapter'])).name if r.get('adapter') else ''}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tutor eval compare", description=__doc__.splitlines()[0])
    p.add_argument("run_a", help="Report JSON or --out directory (the before / base run).")
    p.add_argument("run_b", help="Report JSON or --out directory (the after / adapter run).")
    p.add_argument("--json", action="store_true", help="Print the deltas as JSON.")
    args = p.parse_args(argv)
    ra, rb = load_reports(args.run_a), load_reports(args.run_b)
    shared = [s for s in ra if s in rb]
    if not shared:
        raise TutorError(f"the two runs share no suite ({', '.join(ra)} against {', '.join(rb)}).")
    result = {s: compare(ra[s], rb[s]) for s in shared}
    if args.json:
        print(json.dumps({s: [dict(zip(("metric", "a", "b", "delta"), row)) for row in rows]
                          for s, rows in result.items()}, indent=2))
        return 0
    for s, rows in result.items():
        a, b = ra[s], rb[s]
        print(f"## {s}: A = {_label(a)} ({a.get('dataset') or 'shipped'}, n={a.get('n')}), "
              f"B = {_label(b)} ({b.get('dataset') or 'shipped'}, n={b.get('n')})\n")
        print(markdown_table(["metric", "A", "B", "B - A"], rows))
        print()
    return 0


if __name__ == "__main__":
    from evals.report import run_cli

    run_cli(main)
