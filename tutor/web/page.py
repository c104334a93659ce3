"""Assemble the page: header, first-launch banner, and the tabs (chat, roadmap, runs, knowledge, status).

    ctx = PageContext(settings, Tutor(settings))
    demo = build_page(ctx)
    demo.queue(...).launch(**launch_assets())
"""

import gradio as gr

from tutor.web import chat, knowledge, roadmap, runs, status
from tutor.web.assets import CSS, JS
from tutor.web.context import PageContext
from tutor.web.render import esc

READY_PLACEHOLDER = "Ask a question…  (or: train the cnn for 3 epochs · quiz me on CNNs · how am I doing?)"


def launch_assets() -> dict:
    """What ``Blocks.launch`` takes for the look (Gradio 6 moved these from ``Blocks``)."""
    # System fonts only: the page must not fetch anything from the internet (Gradio themes default to Google Fonts).
    theme = gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"],
                           font_mono=["ui-monospace", "Consolas", "monospace"])
    return {"css": CSS, "js": JS, "theme": theme}


def build_page(ctx: PageContext) -> gr.Blocks:
    building = ctx.corpus is not None and not ctx.corpus.ready
    with gr.Blocks(title="dl-tutor", fill_width=True) as demo:
        with gr.Row(elem_id="header", equal_height=True):
            gr.HTML("<h1>dl-tutor</h1>")
            who = gr.HTML(elem_id="who", elem_classes=["who"])
        banner = gr.HTML(status.banner_html(ctx), elem_id="banner", visible=building)
        timer = gr.Timer(1.0, active=building)
        with gr.Tabs(selected="chat", elem_id="tabs") as tabs:
            with gr.Tab("Chat", id="chat", elem_id="tab-chat"):
                chat_panel = chat.build(ctx)
            roadmap_panel = roadmap.build(ctx)
            runs.build(ctx)
            knowledge.build(ctx)
            status.build(ctx)

        def placeholder() -> str:
            if ctx.corpus is not None and not ctx.corpus.ready:
                return ctx.corpus.line()
            return READY_PLACEHOLDER

        def tick():
            done = ctx.corpus is None or ctx.corpus.ready or ctx.corpus.state == "failed"
            html = status.banner_html(ctx)
            return (gr.update(value=html, visible=bool(html)), gr.update(placeholder=placeholder()),
                    gr.Timer(active=not done))

        timer.tick(tick, None, [banner, chat_panel.msg, timer], show_progress="hidden", queue=False)

        def on_load(request: gr.Request):
            user = ctx.user(request)
            if ctx.auth:
                who_html = f'Signed in as <b>{esc(user)}</b> · <a href="/logout">log out</a>'
            else:
                who_html = f"Local user <b>{esc(user)}</b>"
            try:
                sessions = gr.update(choices=chat.session_choices(ctx, user))
            except Exception:  # noqa: BLE001 - an empty list; the chat says what is wrong when used
                chat.log.exception("listing sessions failed")
                sessions = gr.skip()
            html = status.banner_html(ctx)
            return who_html, sessions, gr.update(value=html, visible=bool(html)), gr.update(placeholder=placeholder())

        demo.load(on_load, None, [who, chat_panel.sessions, banner, chat_panel.msg], show_progress="hidden")

        def quiz_next(topic: str):
            topic = topic or ""
            text = f"quiz me on {topic.replace('-', ' ')}" if topic else "quiz me"
            return text, gr.Tabs(selected="chat")

        roadmap_panel.quiz.click(quiz_next, [roadmap_panel.next_topic], [chat_panel.msg, tabs], show_progress="hidden")
    return demo
