"""Start-up benchmark: how long light `tutor` commands take, against a bare Python start.

    python benchmarks/startup.py                   # 5 repeats, Markdown table on stdout
    python benchmarks/startup.py --repeats 9 --json out.json
    python benchmarks/startup.py --compare-tree /tmp/old   # also time another checkout, same session

With ``--compare-tree DIR`` each command also runs from that tree (``python -m tutor.cli`` with
``PYTHONPATH=DIR``, interleaved with this tree's runs so both see the same load), and the table
adds the ratio of the two medians: a before/after that machine load cannot skew much.

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
#: name -> (arguments, expected exit code). The refused run measures the path a typo takes: the
#: recipe's parameters are validated from its card, so it must not wait for torch either.
COMMANDS = {
    "tutor --help": (["--help"], 0),
    "tutor experiment list": (["experiment", "list"], 0),
    "tutor experiment run cnn --epochs 0 (refused)": (["experiment", "run", "cnn", "--epochs", "0"], 2),
    "tutor models": (["models"], 0),
}


def tutor_argv() -> list[str]:
    script = Path(sys.executable).with_name("tutor")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "tutor.cli"]


def run_once(argv: list[str], env: dict[str, str], expect_rc: int = 0, cwd: Path = REPO) -> float:
    start = time.perf_counter()
    out = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode != expect_rc:
        raise SystemExit(f"{' '.join(argv)} failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    return elapsed


def wall_times(argv: list[str], repeats: int, env: dict[str, str], expect_rc: int = 0) -> list[float]:
    run_once(argv, env, expect_rc)  # the first run only warms caches
    return [run_once(argv, env, expect_rc) for _ in range(repeats)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per command (after one warm-up)")
    parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
    parser.add_argument("--compare-tree", type=Path, default=None,
                        help="another checkout of the project (e.g. `git archive REV | tar -x -C DIR`) to time too")
    args = parser.parse_args()
    if args.compare_tree is not None:
        return compare(args)

    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    env.update(TUTOR_HOME=tempfile.mkdtemp(prefix="startup-bench-"), PYTHONPATH=str(REPO))
    base = tutor_argv()
    rows = {"python -c pass (baseline)": wall_times([sys.executable, "-c", "pass"], args.repeats, env)}
    for name, (extra, expect_rc) in COMMANDS.items():
        rows[name] = wall_times(base + extra, args.repeats, env, expect_rc)

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


def compare(args: argparse.Namespace) -> None:
    """This tree against ``--compare-tree``, command by command, runs interleaved."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    env["TUTOR_HOME"] = tempfile.mkdtemp(prefix="startup-bench-")
    trees = {"this tree": REPO, "other tree": args.compare_tree.resolve()}
    report = {"repeats": args.repeats, "other_tree": str(trees["other tree"]), "cpus": os.cpu_count(),
              "load_avg": [round(x, 2) for x in os.getloadavg()], "results": {}}
    print(f"start-up, this tree vs {trees['other tree']}: medians of {args.repeats} interleaved runs "
          f"(after one warm-up each), `python -m tutor.cli`, {report['cpus']} CPUs, load average {report['load_avg'][0]}")
    print()
    print("| command | this tree | other tree | this / other |")
    print("|---|---:|---:|---:|")
    for name, (extra, expect_rc) in COMMANDS.items():
        times: dict[str, list[float]] = {t: [] for t in trees}
        for i in range(args.repeats + 1):  # the first round only warms caches
            for label, tree in trees.items():
                # cwd = the tree too: `python -m` puts the working directory first on sys.path.
                took = run_once([sys.executable, "-m", "tutor.cli", *extra], {**env, "PYTHONPATH": str(tree)},
                                expect_rc, cwd=tree)
                if i:
                    times[label].append(took)
        this, other = (statistics.median(times[t]) for t in trees)
        report["results"][name] = {"this_s": round(this, 3), "other_s": round(other, 3), "ratio": round(this / other, 3)}
        print(f"| `{name}` | {this:.2f} s | {other:.2f} s | {this / other:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
