"""Lab benchmark: time-to-target accuracy for `cnn` and `rnn`, and the cost of starting a run.

    python benchmarks/lab.py                 # 3 repeats, table on stdout
    python benchmarks/lab.py --repeats 5 --json out.json --threads 2

For each recipe at its default settings it reports, as medians over the repeats:
  - overhead_s: process start -> first event from the recipe (spawn, imports, seeding, data);
  - first_epoch_s: process start -> first epoch event (what a learner waits to see progress);
  - to_target_s: training time until validation accuracy first reaches the target
    (cnn 0.97, rnn 0.90), counted from the start of training;
  - train_s: the whole training phase; test_accuracy: the final test accuracy.
Runs go through the real runner (own process, caps), in a throwaway data dir.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = {"cnn": 0.97, "rnn": 0.90}


def measure(kind: str, target: float, settings, threads: int, params: dict) -> dict:
    from tutor.lab.runner import start_run

    marks: dict[str, float] = {}

    def on_event(event: dict) -> None:
        t = event["elapsed_s"]
        if event["type"] == "status" and event.get("stage") == "setup":
            marks.setdefault("overhead_s", t)
        if event["type"] == "status" and event.get("stage") == "train":
            marks.setdefault("train_start", t)
        if event["type"] == "epoch":
            marks.setdefault("first_epoch_s", t)
            marks["last_epoch"] = t
            if event.get("val_accuracy", 0) >= target:
                marks.setdefault("reached", t)
                marks.setdefault("epochs_to_target", event["epoch"])

    result = start_run(kind, params, settings=settings, on_event=on_event, threads=threads).wait()
    if result.status != "ok":
        raise SystemExit(f"{kind} run ended {result.status}: {result.reason}")
    start = marks.get("train_start", 0.0)
    return {
        "overhead_s": marks.get("overhead_s"),
        "first_epoch_s": marks.get("first_epoch_s"),
        "to_target_s": (marks["reached"] - start) if "reached" in marks else None,
        "epochs_to_target": marks.get("epochs_to_target"),
        "train_s": marks.get("last_epoch", 0.0) - start,
        "test_accuracy": result.metrics["test_accuracy"],
        "total_s": result.duration_s,
    }


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run (runner default: 1)")
    parser.add_argument("--kinds", default="cnn,rnn")
    parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
    args = parser.parse_args()

    from tutor.config import Settings

    settings = Settings(home=Path(tempfile.mkdtemp(prefix="lab-bench-")))
    report = {"threads": args.threads, "repeats": args.repeats, "targets": TARGETS, "results": {}}
    for kind in args.kinds.split(","):
        runs = [measure(kind, TARGETS[kind], settings, args.threads, {}) for _ in range(args.repeats)]
        report["results"][kind] = {
            "median": {key: median([r[key] for r in runs]) for key in runs[0]},
            "runs": runs,
        }
    cols = ["overhead_s", "first_epoch_s", "to_target_s", "epochs_to_target", "train_s", "test_accuracy", "total_s"]
    print(f"lab benchmark: medians of {args.repeats} runs, {args.threads} thread(s), default params")
    print(f"{'kind':<6} {'target':>6} " + " ".join(f"{c:>16}" for c in cols))
    for kind, data in report["results"].items():
        m = data["median"]
        print(f"{kind:<6} {TARGETS[kind]:>6} " + " ".join(f"{str(m[c]):>16}" for c in cols))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
