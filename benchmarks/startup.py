"""Start-up benchmark: how long light `tutor` commands take, against a bare Python start.

    python benchmarks/startup.py                   # 5 repeats, Markdown table on stdout
    python benchmarks/startup.py --repeats 9 --json out.json

Each command runs as a fresh process (the installed `tutor` console script next to this
Python, else `python -m tutor.cli`) in a throwaway data dir, once to warm the disk cache and
the bytecode, then ``--repeats`` times; the table shows the median wall time and that median
minus the baseline ``python -c pass`` measured in the same run. The target is "well under a
second" per command (docs/benchmarks.md, "Start-up").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 1.0
COMMANDS = {
    "tutor --help": ["--help"],
    "tutor experiment list": ["experiment", "list"],
    "tutor models": ["models"],
}


def tutor_argv() -> list[str]:
    script = Path(sys.executable).with_name("tutor")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "tutor.cli"]


def wall_times(argv: list[str], repeats: int, env: dict[str, str]) -> list[float]:
    times = []
    for i in range(repeats + 1):  # the first run only warms caches
        start = time.perf_counter()
        out = subprocess.run(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        if out.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({out.returncode}): {out.stderr.strip()[-500:]}")
        if i:
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per command (after one warm-up)")
    parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    env.update(TUTOR_HOME=tempfile.mkdtemp(prefix="startup-bench-"), PYTHONPATH=str(REPO))
    base = tutor_argv()
    rows = {"python -c pass (baseline)": wall_times([sys.executable, "-c", "pass"], args.repeats, env)}
    for name, extra in COMMANDS.items():
        rows[name] = wall_times(base + extra, args.repeats, env)

    baseline = statistics.median(rows["python -c pass (baseline)"])
    report = {
        "repeats": args.repeats,
        "launcher": " ".join(Path(a).name for a in base),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "target_s": TARGET_S,
        "results": {},
    }
    print(f"start-up: medians of {args.repeats} runs (after one warm-up), launcher `{report['launcher']}`, "
          f"{report['cpus']} CPUs, load average {report['load_avg'][0]}")
    print()
    print("| command | median wall time | over `python -c pass` | min / max | target < 1 s |")
    print("|---|---:|---:|---:|---|")
    for name, times in rows.items():
        med = statistics.median(times)
        is_baseline = name.startswith("python")
        report["results"][name] = {"median_s": round(med, 3), "over_baseline_s": round(med - baseline, 3),
                                   "runs_s": [round(t, 3) for t in times]}
        verdict = "—" if is_baseline else ("**met**" if med < TARGET_S else "**not met**")
        over = "—" if is_baseline else f"{med - baseline:+.2f} s"
        print(f"| `{name}` | {med:.2f} s | {over} | {min(times):.2f} / {max(times):.2f} s | {verdict} |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
