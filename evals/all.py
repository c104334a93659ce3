"""`tutor eval all`: the fast suites in turn (retrieval, tools, experiments), one summary, one exit code.

    tutor eval all --out runs/today                   # each suite's report under runs/today/
    tutor eval all --with pedagogy faithfulness       # add slower suites (they run the chat model)

Common options (--model, --adapter, --limit, --thresholds, --no-gate, --no-progress) are passed to
every suite; --dataset is not (each suite reads its own set). The exit code is the worst suite's.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from evals.common import default_out_dir, parser
from evals.report import markdown_table
from tutor.errors import TutorError

FAST = ("retrieval", "tools", "experiments")
SLOW = ("answers", "faithfulness", "pedagogy", "speed")


def main(argv: list[str] | None = None) -> int:
    import importlib

    from evals.__main__ import SUITES

    p = parser("all", __doc__.splitlines()[0])
    p.add_argument("--with", dest="extra", nargs="+", choices=SLOW, default=[], help="Slower suites to add.")
    args = p.parse_args(argv)
    out = Path(args.out) if args.out else default_out_dir()
    common: list[str] = ["--out", str(out)]
    for flag, value in (("--model", args.model), ("--adapter", args.adapter), ("--limit", args.limit),
                        ("--thresholds", args.thresholds)):
        if value is not None:
            common += [flag, str(value)]
    common += [flag for flag, on in (("--no-gate", args.no_gate), ("--no-progress", args.no_progress)) if on]
    rows, worst = [], 0
    for suite in (*FAST, *args.extra):
        module = importlib.import_module(SUITES[suite])
        captured = io.StringIO()
        # Each suite's own table goes to its .md file; here only the summary is printed.
        try:
            with contextlib.redirect_stdout(captured):
                rc = int(module.main(common) or 0)
        except TutorError as exc:  # one suite that cannot run (a locked store, no model) does not stop the rest
            rows.append([suite, 0, "ERROR", str(exc), 1])
            worst = max(worst, 1)
            continue
        worst = max(worst, rc)
        report = json.loads((out / f"{suite}.json").read_text(encoding="utf-8"))
        rows.append([suite, report["n"], {True: "passed", False: "FAILED", None: "–"}[report["passed"]],
                     "; ".join(report["gate"]) or "", rc])
        if rc == 130:
            break
    summary = markdown_table(["suite", "n", "gate", "below minimum", "exit"], rows)
    (out / "all.md").write_text(f"# eval all\n\n{summary}\n", encoding="utf-8")
    if args.json_path == "-":
        print(json.dumps({"suite": "all", "out": str(out), "rows": rows}, indent=2))
    else:
        print(summary)
        print(f"reports in {out}")
    return worst
