"""The Roadmap tab: mastery per roadmap topic (from quiz grades) and the next topic to study.

Numbers come from the agent's memory (``mastery_for``) and its topic list; "next" is the
progress tool's own rule (``next_topic``), so the page and ``how am I doing?`` in the chat agree.
"""

from dataclasses import dataclass
from typing import Any

import gradio as gr

from tutor.web.context import PageContext, readable
from tutor.web.render import esc


@dataclass
class RoadmapPanel:
    tab: Any
    view: Any
    quiz: Any
    next_topic: Any


def roadmap_html(mastery: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """The table, and the id of the next topic."""
    from tutor.agent.tools.progress import MASTERED, next_topic
    from tutor.agent.topics import TOPICS

    nxt = next_topic(mastery)
    rows = []
    for i, topic in enumerate(TOPICS, 1):
        m = mastery.get(topic.id)
        score = None if m is None else float(m["score"])
        pct = 0 if score is None else round(100 * score)
        state = "not tried" if score is None else ("mastered" if score >= MASTERED else "practising")
        shown = "—" if score is None else f"{score:.2f}"
        attempts = 0 if m is None else int(m["attempts"])
        cls = "next" if topic.id == nxt else state.replace(" ", "-")
        rows.append(
            f'<tr class="topic {cls}" data-topic="{esc(topic.id)}"><td>{i}</td><td>{esc(topic.title)}'
            + (' <span class="badge">next</span>' if topic.id == nxt else "")
            + f'</td><td><div class="meter" title="{pct}%"><span style="width:{pct}%"></span></div></td>'
            f"<td>{shown}</td><td>{attempts}</td><td>{state}</td></tr>")
    title = next(t.title for t in TOPICS if t.id == nxt)
    table = ('<table class="roadmap"><thead><tr><th>#</th><th>topic</th><th>mastery</th><th>score</th>'
             "<th>quizzes</th><th></th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
    head = (f'<p class="roadmap-next">Next: <b>{esc(title)}</b>. A topic counts as mastered from a score of '
            f"{MASTERED:.1f}; each graded quiz answer moves its score.</p>")
    return head + table, nxt


def build(ctx: PageContext) -> RoadmapPanel:
    with gr.Tab("Roadmap", id="roadmap", elem_id="tab-roadmap") as tab:
        view = gr.HTML(elem_id="roadmap")
        next_topic = gr.State("")
        with gr.Row():
            quiz = gr.Button("Quiz me on the next topic", variant="primary", elem_id="quiz-next")
            refresh = gr.Button("Refresh", size="sm", elem_id="roadmap-refresh")

    def show(request: gr.Request):
        try:
            html, nxt = roadmap_html(ctx.tutor.memory.mastery_for(ctx.user(request)))
        except Exception as exc:  # noqa: BLE001
            return f'<div class="turn-error">⚠️ {esc(readable(exc))}</div>', ""
        return html, nxt

    for trigger in (tab.select, refresh.click):
        trigger(show, None, [view, next_topic], show_progress="hidden")
    return RoadmapPanel(tab, view, quiz, next_topic)
