"""The Runs tab: past experiment runs (params, metrics, curves) and two runs side by side.

With logins, a learner sees only the runs the agent recorded for them (``memory.runs_for``);
without, the page serves one local user and lists every run on disk (the CLI's too).
"""

import json
import logging
from dataclasses import dataclass
from typing import Any

import gradio as gr

from tutor.web.context import PageContext, load_image, readable
from tutor.web.render import esc

log = logging.getLogger("tutor.web")
COLUMNS = ["run", "kind", "status", "metric", "value", "verdict", "started", "seconds"]


@dataclass
class RunsPanel:
    tab: Any
    refresh: Any
    table: Any
    pick: Any
    a: Any
    b: Any


def visible_runs(ctx: PageContext, user: str) -> list[dict[str, Any]]:
    from tutor.lab.runs import list_runs

    rows = list_runs(ctx.settings)
    if ctx.auth:
        own = {r["run_id"] for r in ctx.tutor.memory.runs_for(user)}
        rows = [r for r in rows if r["run_id"] in own]
    return rows


def load_visible(ctx: PageContext, user: str, run_id: str) -> dict[str, Any]:
    from tutor.errors import TutorError
    from tutor.lab.runs import load_run

    record = load_run(run_id, ctx.settings)
    if ctx.auth and not ctx.tutor.memory.owns_run(user, record["run_id"]):
        raise TutorError(f"no run '{run_id}' among your runs")
    return record


def _value(row: dict) -> str:
    v = row.get("value")
    if not isinstance(v, (int, float)):
        return ""
    return f"{100 * v:.1f}%" if "accuracy" in str(row.get("primary_metric")) else f"{v:.4g}"


def table_rows(rows: list[dict]) -> list[list[Any]]:
    return [[r["run_id"], r.get("kind") or "", r.get("status") or "", (r.get("primary_metric") or "").replace("_", " "),
             _value(r), (r.get("verdict") or "").replace("_", " "), (r.get("started_at") or "")[:19].replace("T", " "),
             r.get("duration_s") if r.get("duration_s") is not None else ""] for r in rows]


def _fmt(name: str, v: Any) -> str:
    if isinstance(v, float):
        return f"{100 * v:.2f}%" if "accuracy" in name else f"{v:.4g}"
    return esc(json.dumps(v) if isinstance(v, (dict, list)) else v)


def run_markdown(record: dict) -> str:
    params = record.get("params") or {}
    metrics = record.get("metrics") or {}
    d = record.get("diagnosis") or {}
    lines = [f"#### `{record['run_id']}`",
             f"{esc(record.get('kind'))} · **{esc(record.get('status'))}**"
             + (f" ({esc(record.get('reason'))})" if record.get("reason") else "")
             + (f" · {record.get('duration_s'):.1f} s" if isinstance(record.get("duration_s"), (int, float)) else ""),
             "", "| parameter | value |", "|---|---|"]
    lines += [f"| {esc(k)} | {_fmt(k, v)} |" for k, v in params.items()]
    if metrics:
        lines += ["", "| metric | value |", "|---|---|"]
        lines += [f"| {esc(k.replace('_', ' '))} | {_fmt(k, v)} |" for k, v in metrics.items()]
    if d.get("verdict"):
        lines += ["", f"**Diagnosis: {esc(str(d['verdict']).replace('_', ' '))}.** {esc(d.get('summary') or '')}"]
        lines += [f"- Try: {esc(s)}" for s in (d.get("suggestions") or [])[:3]]
    return "\n".join(lines)


def compare_markdown(result: dict) -> str:
    lines = [f"**{esc(result['summary'])}**"]
    if result.get("warning"):
        lines.append(f"\n_Note: {esc(result['warning'])}._")
    if result.get("params_diff"):
        lines += ["", "| parameter | A | B |", "|---|---|---|"]
        lines += [f"| {esc(k)} | {_fmt(k, d['a'])} | {_fmt(k, d['b'])} |" for k, d in result["params_diff"].items()]
    if result.get("metrics_diff"):
        lines += ["", "| metric | A | B | better |", "|---|---|---|---|"]
        for k, d in result["metrics_diff"].items():
            lines.append(f"| {esc(k.replace('_', ' '))} | {_fmt(k, d.get('a'))} | {_fmt(k, d.get('b'))} | "
                         f"{esc((d.get('better') or '').upper())} |")
    return "\n".join(lines)


def build(ctx: PageContext) -> RunsPanel:
    with gr.Tab("Runs", id="runs", elem_id="tab-runs") as tab:
        with gr.Row():
            gr.Markdown("Your experiment runs, newest first. Pick one to see its numbers and curves, "
                        "or two to compare them side by side.")
            refresh = gr.Button("Refresh", size="sm", scale=0, elem_id="runs-refresh")
        table = gr.Dataframe(headers=COLUMNS, value=[], interactive=False, wrap=True, elem_id="runs-table",
                             max_height=300)
        with gr.Row():
            pick = gr.Dropdown(label="Show run", choices=[], elem_id="run-pick", scale=2)
        with gr.Row():
            detail = gr.Markdown(elem_id="run-detail")
            detail_img = gr.Image(label="Curves", visible=False, interactive=False, format="png")
        gr.Markdown("### Compare two runs")
        with gr.Row():
            a = gr.Dropdown(label="Run A", choices=[], elem_id="run-a")
            b = gr.Dropdown(label="Run B", choices=[], elem_id="run-b")
            compare = gr.Button("Compare", variant="primary", scale=0, elem_id="run-compare")
        cmp_summary = gr.Markdown(elem_id="compare-summary")
        with gr.Row():
            with gr.Column():
                a_md = gr.Markdown(elem_id="compare-a")
                a_img = gr.Image(label="A", visible=False, interactive=False, format="png")
            with gr.Column():
                b_md = gr.Markdown(elem_id="compare-b")
                b_img = gr.Image(label="B", visible=False, interactive=False, format="png")
        overlay = gr.Image(label="A and B overlaid", visible=False, interactive=False, format="png")

    def listing(request: gr.Request):
        try:
            rows = visible_runs(ctx, ctx.user(request))
        except Exception as exc:  # noqa: BLE001
            return [], gr.skip(), gr.skip(), gr.skip(), f"⚠️ {esc(readable(exc))}"
        choices = [(f"{r['run_id']} · {_value(r) or r.get('status')}", r["run_id"]) for r in rows]
        first = choices[0][1] if choices else None
        second = choices[1][1] if len(choices) > 1 else None
        return (table_rows(rows), gr.update(choices=choices), gr.update(choices=choices, value=second),
                gr.update(choices=choices, value=first), gr.skip())

    for trigger in (refresh.click, tab.select):
        trigger(listing, None, [table, pick, a, b, detail], show_progress="hidden")

    def show(run_id: str | None, request: gr.Request):
        if not run_id:
            return "", gr.update(visible=False)
        try:
            record = load_visible(ctx, ctx.user(request), run_id)
        except Exception as exc:  # noqa: BLE001
            return f"⚠️ {esc(readable(exc))}", gr.update(visible=False)
        image = load_image((record.get("artifacts") or {}).get("curves"))
        return run_markdown(record), gr.update(value=image, visible=image is not None)

    pick.change(show, [pick], [detail, detail_img], show_progress="hidden")

    def compare_runs(run_a: str | None, run_b: str | None, request: gr.Request):
        hidden = gr.update(visible=False)
        if not run_a or not run_b:
            return "Pick two runs.", "", hidden, "", hidden, hidden
        try:
            from tutor.lab.compare import compare_runs as compare

            user = ctx.user(request)
            ra, rb = load_visible(ctx, user, run_a), load_visible(ctx, user, run_b)
            result = compare(ra["run_id"], rb["run_id"], ctx.settings)
        except Exception as exc:  # noqa: BLE001
            return f"⚠️ {esc(readable(exc))}", "", hidden, "", hidden, hidden
        ia = load_image((ra.get("artifacts") or {}).get("curves"))
        ib = load_image((rb.get("artifacts") or {}).get("curves"))
        io = load_image(result.get("plot"))
        return (compare_markdown(result), run_markdown(ra), gr.update(value=ia, visible=ia is not None),
                run_markdown(rb), gr.update(value=ib, visible=ib is not None),
                gr.update(value=io, visible=io is not None))

    compare.click(compare_runs, [a, b], [cmp_summary, a_md, a_img, b_md, b_img, overlay], show_progress="minimal")
    return RunsPanel(tab, refresh, table, pick, a, b)
