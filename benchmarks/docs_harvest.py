"""API-docs harvest: documents, characters and seconds per package (knowledge.readers.api_docs).

    python benchmarks/docs_harvest.py                       # the configured docs packages
    python benchmarks/docs_harvest.py torch.nn peft --json out.json
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def main(argv: list[str] | None = None) -> None:
    """``python benchmarks/docs_harvest.py [PACKAGE ...] [--json PATH]``: size and time per package.

    Defaults to the configured docs packages; rerun it on a quiet machine for real timings.
    Each package is timed in this one process, so later ones reuse modules imported earlier
    (torch.optim after torch.nn): the first number is the honest cold-import cost.
    """
    import argparse
    import json
    import time

    from knowledge.readers.api_docs import harvest
    from tutor.config import get_settings
    from tutor.errors import TutorError

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("packages", nargs="*", help="packages to harvest (default: settings.docs_packages)")
    parser.add_argument("--json", dest="json_path", help="also write the table as JSON here")
    args = parser.parse_args(argv)
    rows = []
    for package in args.packages or get_settings().docs_packages:
        start = time.perf_counter()
        try:
            docs = harvest(package)
        except TutorError as exc:
            rows.append({"package": package, "error": str(exc)})
            continue
        rows.append(
            {
                "package": package,
                "version": docs[0].metadata["version"] if docs else None,
                "documents": len(docs),
                "characters": sum(len(d.text) for d in docs),
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
    print(f"{'package':<20} {'docs':>6} {'chars':>10} {'seconds':>8}  version")
    for r in rows:
        if "error" in r:
            print(f"{r['package']:<20} error: {r['error']}")
        else:
            print(f"{r['package']:<20} {r['documents']:>6} {r['characters']:>10} {r['seconds']:>8}  {r['version']}")
    ok = [r for r in rows if "error" not in r]
    print(f"{'total':<20} {sum(r['documents'] for r in ok):>6} {sum(r['characters'] for r in ok):>10} "
          f"{round(sum(r['seconds'] for r in ok), 2):>8}")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
