"""Events → what the chat shows. Pure functions and one small class; no Gradio, no I/O.

A turn's events (``tutor/agent/events.py``) fold into a ``TurnView``; ``TurnView.messages()``
gives the chat messages of that turn in Gradio's "messages" format:

- one collapsible step per tool (searching the knowledge base, training a model, a quiz ...),
  its status pending until the tool's result arrives;
- the answer text, streamed; once the ``answer`` event arrives its ``[n]`` markers become links
  to anchors, and a list of the cited passages follows, each an HTML ``<details>`` holding the
  exact passage text, its title, section and link. A click on ``[n]`` opens passage n (page.js).

The experiment panel's numbers live in ``ExperimentView`` (fed the same events).
"""

from __future__ import annotations

import html
import logging
import re
import uuid
from typing import Any

from pydantic import ValidationError

from tutor.agent.ask import SourceRef

log = logging.getLogger("tutor.web")

#: Longest passage text shown under an answer (the whole passage is what the model saw; a few
#: very long API pages are cut here, with a note).
MAX_PASSAGE_CHARS = 4000

_FENCE = re.compile(r"(```.*?(?:```|$)|`[^`\n]*`)", re.DOTALL)
_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")

TOOL_TITLES = {
    "search_knowledge": ("Searching the knowledge base", "Searched the knowledge base"),
    "run_experiment": ("Training", "Trained"),
    "explain_run": ("Reading the run", "Read the run"),
    "compare_runs": ("Comparing runs", "Compared runs"),
    "quiz": ("Making a quiz question", "Quiz question"),
    "grade": ("Grading your answer", "Graded your answer"),
    "progress": ("Reading your progress", "Your progress"),
}


def esc(text: Any) -> str:
    return html.escape(str(text if text is not None else ""), quote=True)


def one_line(text: Any, limit: int = 300) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def link_markers(text: str, key: str, numbers: set[int]) -> str:
    """``[n]`` → a link to passage n's anchor, for the given numbers, outside code."""
    if not numbers:
        return text

    def link(match: re.Match) -> str:
        nums = [int(x) for x in re.findall(r"\d+", match.group(1))]
        if not all(n in numbers for n in nums):
            return match.group(0)
        return "".join(f'<a class="cite-ref" href="#cite-{key}-{n}">[{n}]</a>' for n in nums)

    parts = _FENCE.split(text)
    return "".join(p if i % 2 else _MARKER.sub(link, p) for i, p in enumerate(parts))


def _where(ref: Any) -> str:
    return " › ".join(x for x in (getattr(ref, "title", ""), getattr(ref, "section", "")) if x) or getattr(ref, "source", "")


def passage_details(ref: Any, key: str, prefix: str = "cite") -> str:
    """One passage as a ``<details>`` block on a single line (a blank line would end the HTML block)."""
    n = ref.n
    body = ref.text or ""
    cut = len(body) > MAX_PASSAGE_CHARS
    body = esc(body[:MAX_PASSAGE_CHARS]).replace("\n", "<br>") + ("<br>… (cut here for display)" if cut else "")
    link = ""
    if ref.url and re.match(r"^https?://", ref.url):
        link = f' · <a href="{esc(ref.url)}" target="_blank" rel="noopener noreferrer">open the source</a>'
    return (f'<details class="passage" id="{prefix}-{key}-{n}"><summary>[{n}] {esc(_where(ref))}</summary>'
            f'<div class="passage-text">{body}</div>'
            f'<div class="passage-source"><code>{esc(ref.source)}</code>{link}</div></details>')


def sources_block(citations: list, sources: list, key: str) -> str:
    parts = []
    if citations:
        parts.append('<div class="cited"><div class="cited-head">Cited passages</div>'
                     + "".join(passage_details(c, key) for c in citations) + "</div>")
    if sources:
        parts.append('<div class="cited"><div class="cited-head">Sources this answer drew on (not cited inline)</div>'
                     + "".join(passage_details(s, key, prefix="src") for s in sources) + "</div>")
    return "".join(parts)


def stored_answer_markdown(text: str, meta: dict[str, Any], key: str) -> str:
    """A reply read back from memory, with its [n] markers opening the passages it cited then.

    Memory keeps plain dicts; a row that no longer parses (an older reply, a hand-edited
    database) is left out rather than breaking the whole session.
    """
    citations, sources = _stored_refs(meta.get("citations")), _stored_refs(meta.get("sources"))
    body = link_markers(text, key, {c.n for c in citations}) if text else "*(no text)*"
    block = sources_block(citations, sources, key)
    return body + ("\n\n" + block if block else "")


def _stored_refs(rows: Any) -> list[SourceRef]:
    """The rows that are still valid ``SourceRef`` records; the rest are skipped (logged at debug)."""
    out = []
    for row in rows if isinstance(rows, list) else []:
        try:
            out.append(SourceRef.model_validate(row))
        except ValidationError as exc:
            log.debug("stored passage row skipped, %d validation error(s): %r", exc.error_count(), row)
    return out


def _fmt_metric(name: str, value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "n/a"
    return f"{100 * value:.1f}%" if "accuracy" in name else f"{value:.4g}"


def _args_line(arguments: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in arguments.items())


class TurnView:
    """One turn's events, folded into the chat messages that show it."""

    def __init__(self, key: str | None = None):
        self.key = key or uuid.uuid4().hex[:8]
        self.steps: list[dict[str, Any]] = []
        self.text = ""
        self.answer: Any = None
        self.error: str | None = None
        self.stopped = False
        self.notice: str | None = None
        self.running_tool: str | None = None
        self.experiment: ExperimentView | None = None
        self.session_id: str | None = None
        #: Seconds from the page receiving the message to the first answer text (set by chat.py).
        self.page_ttft_s: float | None = None

    # -- folding events ------------------------------------------------------------------------
    def apply(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == "token":
            self.text += event.text
        elif kind == "passages":
            step = self._step("search_knowledge")
            if step is not None:
                listed = "".join(f"<li>[{p.n}] {esc(_where(p))}</li>" for p in event.passages[:10])
                step["content"] = f"<ol class='step-list'>{listed}</ol>" if listed else "No passage matched."
        elif kind == "tool_call":
            pending, _ = TOOL_TITLES.get(event.name, (f"Using {event.name}", event.name))
            args = dict(event.arguments)
            title = pending
            if event.name == "run_experiment":
                title = f"{pending} {args.pop('kind', 'a model')}" + (f" · {_args_line(args)}" if args else "")
            content = ""
            if event.defaults:
                content = "Defaults for what you didn't say: " + esc(_args_line(event.defaults))
            self.steps.append({"name": event.name, "title": title, "content": content, "status": "pending"})
            if event.name != "search_knowledge":
                self.running_tool = event.name
            if event.name == "run_experiment":
                self.experiment = ExperimentView(kind=str(event.arguments.get("kind", "")))
        elif kind == "tool_progress":
            if self.experiment is None:
                self.experiment = ExperimentView()
            self.experiment.apply(event)
        elif kind == "tool_result":
            step = self._step(event.name, pending_only=True)
            if step is not None:
                step["status"] = "done"
                _, done = TOOL_TITLES.get(event.name, (event.name, event.name))
                step["title"] = self._result_title(event, done, step["title"])
                if not event.ok:
                    step["content"] = (step["content"] + "<br>" if step["content"] else "") + esc(event.message)
            if event.name == self.running_tool:
                self.running_tool = None
            if event.name == "run_experiment":
                if self.experiment is None:
                    self.experiment = ExperimentView()
                self.experiment.finish(event)
        elif kind == "answer":
            self.answer = event
            self.text = event.text
            self.session_id = event.session_id
            self.running_tool = None
        elif kind == "error":
            self.error = event.message
            self.running_tool = None
            if getattr(event, "session_id", None):
                self.session_id = event.session_id

    def _step(self, name: str, pending_only: bool = False) -> dict | None:
        for step in reversed(self.steps):
            if step["name"] == name and (not pending_only or step["status"] == "pending"):
                return step
        return None

    @staticmethod
    def _result_title(event: Any, done: str, title: str) -> str:
        if event.name == "search_knowledge":
            n = event.result.get("passages")
            return f"{done} · {n} passage{'s' if n != 1 else ''}" if isinstance(n, int) else done
        if event.name == "run_experiment":
            r = event.result
            if not event.ok:
                return f"{title.replace('Training', 'Training stopped:', 1)} ({one_line(r.get('status') or 'failed', 40)})"
            metric = r.get("primary_metric") or "test_accuracy"
            value = (r.get("metrics") or {}).get(metric)
            return (f"{title.replace('Training', 'Trained', 1)} · run {r.get('run_id')} · "
                    f"{metric.replace('_', ' ')} {_fmt_metric(metric, value)}")
        return done if event.ok else f"{done}: {one_line(event.message, 120)}"

    @property
    def finished(self) -> bool:
        return self.answer is not None or self.error is not None

    # -- rendering -------------------------------------------------------------------------------
    def answer_markdown(self) -> str:
        answer = self.answer
        text = self.text.strip()
        if answer is not None:
            numbers = {c.n for c in answer.citations}
            body = link_markers(text, self.key, numbers) if text else "*(no text)*"
            block = sources_block(answer.citations, answer.sources, self.key)
            meta = self.meta_html()
            return body + ("\n\n" + block if block else "") + "\n\n" + meta
        parts = [text] if text else []
        if self.error:
            parts.append(f'<div class="turn-error" role="alert">⚠️ {esc(self.error)}</div>')
        if self.stopped:
            parts.append('<div class="turn-stopped">Stopped.</div>')
        if self.notice:
            parts.append(f'<div class="turn-notice">{esc(self.notice)}</div>')
        if not parts:
            return '<span class="thinking">…</span>'
        return "\n\n".join(parts)

    def meta_html(self) -> str:
        """mode · model · time to first token · total time (classes carry the mode: the sanitizer drops data-*)."""
        a = self.answer
        bits = [f'<span class="meta-mode">{esc(a.mode)}</span>']
        if a.model and a.model != "none":
            bits.append(f"model {esc(a.model)}")
        if a.ttft_s is not None:
            bits.append(f'first token <span class="meta-ttft">{a.ttft_s:.3f}</span> s')
        bits.append(f"{a.latency_s:.1f} s")
        page = "" if self.page_ttft_s is None else f'<span class="meta-page">{self.page_ttft_s:.3f}</span>'
        return f'<div class="turn-meta mode-{esc(a.mode)}">' + " · ".join(bits) + page + "</div>"

    def messages(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for step in self.steps:
            out.append({"role": "assistant", "content": step["content"] or "",
                        "metadata": {"title": step["title"], "status": step["status"]}})
        out.append({"role": "assistant", "content": self.answer_markdown()})
        return out


class ExperimentView:
    """The live numbers of one experiment: epochs, curves, the final result."""

    LOSS = ("train_loss", "val_loss")
    ACCURACY = ("train_accuracy", "val_accuracy")

    def __init__(self, kind: str = ""):
        self.kind = kind
        self.run_id: str | None = None
        self.stage = "starting"
        self.epoch = 0
        self.total: int | None = None
        self.history: list[dict[str, Any]] = []
        self.result: dict[str, Any] | None = None
        self.ok: bool | None = None
        self.message = ""

    def apply(self, event: Any) -> None:
        self.run_id = event.run_id or self.run_id
        if event.total_epochs:
            self.total = int(event.total_epochs)
        if event.stage == "epoch" and event.epoch is not None:
            self.epoch = int(event.epoch)
            self.history.append({"epoch": self.epoch, **event.metrics})
            self.stage = "training"
        elif event.stage:
            self.stage = event.stage

    def finish(self, event: Any) -> None:
        self.result = dict(event.result or {})
        self.ok = bool(event.ok)
        self.message = event.message
        self.run_id = self.result.get("run_id") or self.run_id
        self.kind = self.result.get("kind") or self.kind
        history = self.result.get("history")
        if isinstance(history, list) and history:
            self.history = [h for h in history if isinstance(h, dict)]
            self.epoch = max([int(h.get("epoch", 0) or 0) for h in self.history] + [self.epoch])
        self.stage = "done" if self.ok else str(self.result.get("status") or "failed")

    def series(self, names: tuple[str, ...]) -> list[dict[str, Any]]:
        """Long-format rows (epoch, series, value) for a line plot."""
        rows = []
        for h in self.history:
            for name in names:
                v = h.get(name)
                if isinstance(v, (int, float)):
                    rows.append({"epoch": int(h.get("epoch", 0) or 0), "series": name.replace("_", " "), "value": float(v)})
        return rows

    def progress_html(self) -> str:
        total = self.total or max(self.epoch, 1)
        done = min(self.epoch, total)
        pct = 100.0 * done / total if total else 0.0
        last = self.history[-1] if self.history else {}
        numbers = [f"{k.replace('_', ' ')} {_fmt_metric(k, last[k])}" for k in (*self.LOSS, *self.ACCURACY) if k in last]
        if self.result is not None:
            state = "finished" if self.ok else f"ended: {esc(self.stage)}"
        else:
            state = "training" if self.epoch else esc(self.stage)
        head = f"{esc(self.kind or 'experiment')}" + (f" · run <code>{esc(self.run_id)}</code>" if self.run_id else "")
        return (f'<div class="exp-progress" data-epoch="{done}" data-total="{total}" data-state="{esc(self.stage)}">'
                f'<div class="exp-head">{head} · {state}</div>'
                f'<progress class="exp-bar" value="{done}" max="{total}" aria-label="training progress"></progress>'
                f'<div class="exp-epoch">epoch {done}/{total} ({pct:.0f}%)'
                + (" · " + esc(", ".join(numbers)) if numbers else "") + "</div></div>")

    def diagnosis_markdown(self) -> str:
        if self.result is None:
            return ""
        r = self.result
        lines = []
        if not self.ok:
            lines.append(f"**The run ended: {r.get('status') or 'failed'}.** {one_line(r.get('reason') or self.message)}")
        metrics = r.get("metrics") or {}
        if metrics:
            shown = ", ".join(f"{k.replace('_', ' ')} **{_fmt_metric(k, v)}**" for k, v in list(metrics.items())[:8]
                              if isinstance(v, (int, float)))
            if shown:
                lines.append("Final: " + shown)
        d = r.get("diagnosis") or {}
        if d.get("verdict"):
            lines.append(f"**Diagnosis: {str(d['verdict']).replace('_', ' ')}.** {one_line(d.get('summary'), 600)}")
        for finding in (d.get("findings") or [])[:4]:
            text = finding.get("message", "") if isinstance(finding, dict) else finding
            lines.append(f"- {one_line(text, 300)}")
        for suggestion in (d.get("suggestions") or [])[:3]:
            lines.append(f"- Try: {one_line(suggestion, 300)}")
        return "\n\n".join(lines)

    @property
    def curves_path(self) -> str | None:
        artifacts = (self.result or {}).get("artifacts") or {}
        path = artifacts.get("curves")
        return str(path) if path else None
