"""Agent speed: routing decision latency, and learner request -> first epoch event, cold vs warm.

    python benchmarks/agent.py [--json PATH] [--repeats N]

Same run, same machine: a cold start (a fresh spawned process imports torch and the recipe)
beside a warm one (tutor/lab/warm.py: a spare process that did the imports before the request).
Medians over ``--repeats`` runs of the CNN recipe with 1 epoch.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def first_epoch_seconds(warm: bool) -> float:
    from tutor.lab.runner import start_run
    from tutor.lab.warm import POOL

    if warm:
        POOL.start()
        spare = POOL._spare
        # the spare is made ahead of the request: wait until its imports are done (it then blocks on the job queue)
        time.sleep(0.5)
        while spare is not None and spare.process.is_alive() and _cpu_busy(spare.process.pid):
            time.sleep(0.5)
    t0 = time.perf_counter()
    first = None
    handle = start_run("cnn", {"epochs": 1})
    for event in handle.events():
        if event.get("type") == "epoch" and first is None:
            first = time.perf_counter() - t0
        if event.get("type") == "done":
            break
    POOL.stop()
    return first if first is not None else float("nan")


def _cpu_busy(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).cpu_percent(interval=0.3) > 5.0
    except psutil.Error:
        return False


def routing_latency(n: int = 200) -> dict:
    from evals.tools import load_dataset
    from tutor.agent.router import Router

    router = Router()
    router.warm_up()
    messages = [c.message for c in load_dataset()]
    router.route(messages[0])
    times = []
    for m in (messages * 3)[:n]:
        t0 = time.perf_counter()
        router.route(m)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"p50_ms": 1000 * statistics.median(times), "p95_ms": 1000 * times[int(0.95 * len(times))], "n": len(times)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", dest="json_path")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    route = routing_latency()
    cold = [first_epoch_seconds(False) for _ in range(args.repeats)]
    warm = [first_epoch_seconds(True) for _ in range(args.repeats)]
    out = {"routing": route, "first_epoch_cold_s": cold, "first_epoch_warm_s": warm,
           "first_epoch_cold_median_s": statistics.median(cold), "first_epoch_warm_median_s": statistics.median(warm)}
    print("| measure | value |\n|---|---:|")
    print(f"| routing decision p50 (embedding + rules, {route['n']} messages) | {route['p50_ms']:.2f} ms |")
    print(f"| routing decision p95 | {route['p95_ms']:.2f} ms |")
    print(f"| request -> first epoch, cold (median of {args.repeats}) | {out['first_epoch_cold_median_s']:.2f} s |")
    print(f"| request -> first epoch, warm spare (median of {args.repeats}) | {out['first_epoch_warm_median_s']:.2f} s |")
    print(f"| warm / cold | {out['first_epoch_warm_median_s'] / out['first_epoch_cold_median_s']:.2f} |")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
