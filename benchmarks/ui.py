"""UI benchmark: what the browser adds to the agent's time to first token, and 8 learners at once
while an experiment trains.

    python benchmarks/ui.py                              # the real default model; table on stdout
    python benchmarks/ui.py --scripted --json out.json   # the tests' scripted LLM (page overhead only)
    python benchmarks/ui.py --home /tmp/ui-home          # reuse a data dir (corpus and model built once)

It starts app.py in a subprocess on a free loopback port (small default corpus: roadmap + paper
notes, no API docs), drives Debian's Chromium with Playwright, and measures:

1. ttft: the same question, ``--repeats`` times, each in a new session. For every turn three
   clocks, same turn: the browser (Send click -> first answer text in the DOM, performance.now()),
   the page handler (message received -> first token event, in the app process), and the agent's
   own ``AnswerEvent.ttft_s`` (in-process, from the start of its reply). browser - agent is what
   the page, the queue, the websocket and the agent's own bookkeeping add.
2. load: one browser session trains the CNN; after its first epoch shows, 8 other browser sessions
   send a question at once. p50/p95 of their first token and full answer (browser clock), how many
   were answered, and how many epochs the run made during the burst (it must not freeze).

The model serves one answer at a time (tutor/llm/backends/base.py SerialModel), so under load the
answers queue behind each other; the page's job is that nobody's page freezes and all are answered.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
QUESTION = "What does dropout do during training?"
LOAD_QUESTIONS = [
    "What does dropout do?", "Why does batch normalisation help training?", "What is an LSTM gate?",
    "What does the Adam optimiser do?", "What is overfitting?", "What is a convolution in a CNN?",
    "What does LoRA change in a model?", "What is the universal approximation theorem?",
]

# Install on a page: send a message and time it (browser clock), without Playwright in the loop.
JS_SEND = """(text) => {
  const B = window.__bench = {t0: null, first: null, end: null, error: false};
  const users0 = document.querySelectorAll('#chat [data-testid=user]').length;
  const answer = () => {
    const all = [...document.querySelectorAll('#chat [data-testid=user], #chat [data-testid=bot]')];
    let last = -1;
    all.forEach((e, i) => { if (e.getAttribute('data-testid') === 'user') last = i; });
    return all.slice(last + 1).filter(e => !e.querySelector('.thought-group')).pop();
  };
  const obs = new MutationObserver(() => {
    const now = performance.now();
    if (document.querySelectorAll('#chat [data-testid=user]').length <= users0) return;
    const a = answer();
    if (!a) return;
    if (B.first === null && !a.querySelector('.thinking') && a.innerText.trim()) B.first = now;
    const end = a.querySelector('.turn-meta, .turn-error, .turn-stopped, .turn-notice');
    if (B.end === null && end) {
      B.end = now;
      B.error = !end.classList.contains('turn-meta');
      B.agent_ttft = parseFloat(a.querySelector('.meta-ttft')?.innerText ?? 'NaN');
      B.page_ttft = parseFloat(a.querySelector('.meta-page')?.innerText ?? 'NaN');
      obs.disconnect();
    }
  });
  obs.observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true});
  B.t0 = performance.now();
  document.querySelector('#send').click();
}"""
JS_RESULT = "() => window.__bench"


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    k = max(0, min(len(vals) - 1, int(round(q / 100 * len(vals) + 0.5)) - 1))
    return vals[k]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(home: Path, scripted: bool, max_new_tokens: int, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    env.update({"TUTOR_HOME": str(home), "TUTOR_DOCS_PACKAGES": "[]", "TUTOR_LAB_DEVICE": "cpu",
                "TUTOR_MAX_NEW_TOKENS": str(max_new_tokens), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "KERAS_BACKEND": "torch", "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"})
    if scripted:
        env.update({"TUTOR_TEST_SCRIPTED_LLM": "1", "TUTOR_TEST_LLM_DELAY": "0.02"})
        cmd = [sys.executable, "-m", "tests.web.launcher", "--port", str(port)]
    else:
        cmd = [sys.executable, "app.py", "--port", str(port)]
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(proc: subprocess.Popen, url: str, home: Path, log_path: Path, timeout: float = 1800) -> float:
    from knowledge.corpus_default import is_built
    from tutor.config import Settings

    t0 = time.monotonic()
    settings = Settings(home=home, docs_packages=[])
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"app.py exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
        if time.monotonic() - t0 > timeout:
            raise SystemExit(f"app.py was not ready in {timeout:.0f} s (see {log_path})")
        try:
            with urllib.request.urlopen(url + "/", timeout=5):
                if is_built(settings):
                    return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(1)


def new_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def open_chat(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#msg textarea")
    page.wait_for_function("() => /Local user|Signed in/.test(document.querySelector('#who')?.innerText || '')")


def timed_send(page, text: str) -> None:
    page.fill("#msg textarea", text)
    page.evaluate(JS_SEND, text)


def wait_result(page, timeout_s: float) -> dict:
    page.wait_for_function("() => window.__bench && window.__bench.end !== null", timeout=timeout_s * 1000)
    r = page.evaluate(JS_RESULT)
    first = None if r["first"] is None else (r["first"] - r["t0"]) / 1000
    return {"browser_ttft_s": first, "browser_total_s": (r["end"] - r["t0"]) / 1000, "error": r["error"],
            "agent_ttft_s": None if r.get("agent_ttft") != r.get("agent_ttft") else r.get("agent_ttft"),
            "page_ttft_s": None if r.get("page_ttft") != r.get("page_ttft") else r.get("page_ttft")}


def bench_ttft(browser, url: str, repeats: int, timeout_s: float) -> dict:
    page = new_page(browser)
    open_chat(page, url)
    timed_send(page, QUESTION)  # warm-up turn, not counted: loads whatever is still cold
    wait_result(page, timeout_s)
    rows = []
    for _ in range(repeats):
        page.click("#new-session")
        page.wait_for_function("() => !document.querySelector('#chat [data-testid=user]')")
        timed_send(page, QUESTION)
        rows.append(wait_result(page, timeout_s))
    page.context.close()
    out = {"repeats": repeats, "question": QUESTION, "turns": rows}
    for key in ("browser_ttft_s", "page_ttft_s", "agent_ttft_s", "browser_total_s"):
        vals = [r[key] for r in rows if r[key] is not None]
        out[key] = {"p50": statistics.median(vals) if vals else None, "p95": pct(vals, 95)}
    gaps = [r["browser_ttft_s"] - r["agent_ttft_s"] for r in rows
            if r["browser_ttft_s"] is not None and r["agent_ttft_s"] is not None]
    out["browser_minus_agent_s"] = {"p50": statistics.median(gaps) if gaps else None, "p95": pct(gaps, 95)}
    return out


def epoch_of(page) -> int:
    value = page.evaluate("() => document.querySelector('#experiment .exp-progress')?.dataset.epoch ?? '0'")
    return int(value or 0)


def bench_load(browser, url: str, sessions: int, train_epochs: int, timeout_s: float) -> dict:
    trainer = new_page(browser)
    open_chat(trainer, url)
    askers = [new_page(browser) for _ in range(sessions)]
    for page in askers:
        open_chat(page, url)
    trainer.fill("#msg textarea", f"train the cnn for {train_epochs} epochs")
    trainer.click("#send")
    trainer.wait_for_function("() => Number(document.querySelector('#experiment .exp-progress')?.dataset.epoch) >= 1",
                              timeout=300_000)
    epoch_start = epoch_of(trainer)
    t_burst = time.perf_counter()
    for i, page in enumerate(askers):
        timed_send(page, LOAD_QUESTIONS[i % len(LOAD_QUESTIONS)])
    spread = time.perf_counter() - t_burst  # how long sending all of them took
    results = []
    for page in askers:
        try:
            results.append(wait_result(page, timeout_s))
        except Exception as exc:  # noqa: BLE001 - an unanswered session is a result
            results.append({"browser_ttft_s": None, "browser_total_s": None, "error": True, "timeout": str(exc)[:120]})
    burst_s = time.perf_counter() - t_burst
    epoch_end = epoch_of(trainer)
    state = trainer.evaluate("() => document.querySelector('#experiment .exp-progress')?.dataset.state")
    if state not in ("done", "cancelled", "failed"):
        trainer.click("#stop")  # the numbers are in; don't wait for the remaining epochs
    for page in [trainer, *askers]:
        page.context.close()
    firsts = [r["browser_ttft_s"] for r in results if r.get("browser_ttft_s") is not None]
    totals = [r["browser_total_s"] for r in results if r.get("browser_total_s") is not None]
    return {
        "sessions": sessions, "answered": sum(1 for r in results if r.get("browser_total_s") and not r["error"]),
        "send_spread_s": spread, "burst_s": burst_s,
        "first_token_s": {"p50": statistics.median(firsts) if firsts else None, "p95": pct(firsts, 95)},
        "answer_s": {"p50": statistics.median(totals) if totals else None, "p95": pct(totals, 95)},
        "run_epoch_at_start": epoch_start, "run_epoch_at_end": epoch_end, "run_state_at_end": state,
        "turns": results,
    }


def fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scripted", action="store_true", help="Use the tests' scripted LLM instead of the real model.")
    parser.add_argument("--home", type=Path, help="Data dir to use (and reuse); default a fresh temp dir.")
    parser.add_argument("--repeats", type=int, default=5, help="Timed turns for the ttft part (default 5).")
    parser.add_argument("--sessions", type=int, default=8, help="Browser sessions asking at once (default 8).")
    parser.add_argument("--train-epochs", type=int, default=60, help="Epochs of the CNN that trains meanwhile.")
    parser.add_argument("--max-new-tokens", type=int, default=128, help="Answer length cap (default 128).")
    parser.add_argument("--timeout", type=float, default=900, help="Seconds to wait for one answer.")
    parser.add_argument("--json", dest="json_path", help="Also write the results here.")
    args = parser.parse_args(argv)

    if not Path(CHROMIUM).exists():
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure_browser.sh")], check=True)
    home = args.home or Path(tempfile.mkdtemp(prefix="ui-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    log_path = home.parent / f"{home.name}-app.log"
    proc, url = start_app(home, args.scripted, args.max_new_tokens, log_path)
    try:
        ready_s = wait_ready(proc, url, home, log_path)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM,
                                        args=["--no-sandbox"] if os.geteuid() == 0 else [])
            ttft = bench_ttft(browser, url, args.repeats, args.timeout)
            load = bench_load(browser, url, args.sessions, args.train_epochs, args.timeout)
            browser.close()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)

    model = "scripted (tests/web/scripted_llm.py, 20 ms/word)" if args.scripted else "default preset (llama.cpp)"
    print(f"\nUI benchmark · {model} · max_new_tokens {args.max_new_tokens} · "
          f"{os.cpu_count()} cores · app ready after {ready_s:.0f} s\n")
    print("ttft, same question, same turns (seconds)     p50      p95")
    for label, key in (("browser: Send -> first answer text in DOM", "browser_ttft_s"),
                       ("page handler: received -> first token", "page_ttft_s"),
                       ("agent: AnswerEvent.ttft_s (in-process)", "agent_ttft_s"),
                       ("browser - agent (what the page adds)", "browser_minus_agent_s"),
                       ("browser: whole answer", "browser_total_s")):
        print(f"  {label:<44} {fmt(ttft[key]['p50']):>7}  {fmt(ttft[key]['p95']):>7}")
    print(f"\nload: {load['sessions']} sessions at once while the CNN trains (seconds)     p50      p95")
    print(f"  {'first token':<58} {fmt(load['first_token_s']['p50']):>7}  {fmt(load['first_token_s']['p95']):>7}")
    print(f"  {'whole answer':<58} {fmt(load['answer_s']['p50']):>7}  {fmt(load['answer_s']['p95']):>7}")
    print(f"  answered {load['answered']}/{load['sessions']}; the run went from epoch {load['run_epoch_at_start']} "
          f"to {load['run_epoch_at_end']} during the {load['burst_s']:.1f} s burst ({load['run_state_at_end']})")
    if args.json_path:
        out = {"benchmark": "ui", "model": model, "scripted": args.scripted, "max_new_tokens": args.max_new_tokens,
               "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "app_ready_s": ready_s,
               "ttft": ttft, "load": load}
        Path(args.json_path).write_text(json.dumps(out, indent=2))
        print(f"\nwrote {args.json_path}")


if __name__ == "__main__":
    main()
