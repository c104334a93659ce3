"""The chat panel: streamed, cited answers; the live experiment panel; sessions; mode; Stop.

The send handler is a generator. It starts the agent's turn in a worker thread (``_pump``) that
puts each event on a queue; the handler drains the queue, folds the events into a ``TurnView``
and yields the chat (and the experiment panel) after each batch, so a burst of tokens costs one
update. Stop sets the turn's cancel Event: a running experiment sees it through the agent and
ends "cancelled"; while text streams, the pump closes the turn's generator, which closes the
model's stream.
"""

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import gradio as gr

from tutor.web.context import PageContext, load_image, readable
from tutor.web.render import ExperimentView, TurnView, esc, stored_answer_markdown

log = logging.getLogger("tutor.web")

_END = object()
#: How long the handler waits for the next event before checking Stop again.
POLL_S = 0.05


@dataclass
class ChatPanel:
    chatbot: Any
    state: Any
    msg: Any
    send: Any
    stop: Any
    mode: Any
    new: Any
    sessions: Any
    exp_group: Any
    exp_progress: Any
    loss_plot: Any
    acc_plot: Any
    exp_image: Any
    exp_diag: Any

    @property
    def turn_outputs(self) -> list:
        return [self.chatbot, self.state, self.msg, self.send, self.exp_group, self.exp_progress, self.loss_plot,
                self.acc_plot, self.exp_image, self.exp_diag, self.sessions]


def new_state() -> dict[str, Any]:
    return {"session_id": None, "history": []}


def build(ctx: PageContext) -> ChatPanel:
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=230, elem_id="sidebar"):
            new = gr.Button("+ New session", elem_id="new-session")
            sessions = gr.Dropdown(label="Past sessions", choices=[], value=None, interactive=True,
                                   elem_id="sessions", allow_custom_value=False, info="Pick one to reopen it.")
            mode = gr.Radio(["explain", "guide"], value="explain", label="Mode", elem_id="mode",
                            info="explain: a cited answer · guide: questions that lead you to it")
        with gr.Column(scale=4):
            chatbot = gr.Chatbot(elem_id="chat", height=560, show_label=False, render_markdown=True,
                                 sanitize_html=True, group_consecutive_messages=False, feedback_options=None,
                                 latex_delimiters=[{"left": "$$", "right": "$$", "display": True}],
                                 placeholder="Ask about deep learning, or say *train the cnn for 3 epochs*.")
            with gr.Row(equal_height=True):
                building = ctx.corpus is not None and not ctx.corpus.ready
                msg = gr.Textbox(show_label=False, placeholder=ctx.corpus.line() if building else "Ask a question…", scale=8, lines=1, max_lines=6,
                                 elem_id="msg", autofocus=True, submit_btn=False)
                send = gr.Button("Send", variant="primary", scale=1, min_width=80, elem_id="send")
                stop = gr.Button("Stop", variant="stop", scale=1, min_width=80, elem_id="stop")
            with gr.Group(visible=False, elem_id="experiment") as exp_group:
                exp_progress = gr.HTML(elem_id="exp-progress")
                with gr.Row():
                    loss_plot = gr.LinePlot(x="epoch", y="value", color="series", title="Loss", height=220,
                                            elem_id="loss-plot", x_title="epoch", y_title="loss")
                    acc_plot = gr.LinePlot(x="epoch", y="value", color="series", title="Accuracy", height=220,
                                           elem_id="acc-plot", x_title="epoch", y_title="accuracy")
                exp_image = gr.Image(label="Final curves", visible=False, interactive=False, elem_id="exp-image",
                                     format="png", buttons=["fullscreen"])
                exp_diag = gr.Markdown(elem_id="exp-diagnosis")
    state = gr.State(new_state())
    panel = ChatPanel(chatbot, state, msg, send, stop, mode, new, sessions, exp_group, exp_progress,
                      loss_plot, acc_plot, exp_image, exp_diag)
    _wire(ctx, panel)
    return panel


# -- handlers ----------------------------------------------------------------------------------
def _wire(ctx: PageContext, p: ChatPanel) -> None:
    def send(message: str, state: dict, mode: str, request: gr.Request):
        yield from _send(ctx, p, message, state, mode, request)

    for trigger in (p.send.click, p.msg.submit):
        trigger(send, [p.msg, p.state, p.mode], p.turn_outputs, concurrency_limit=ctx.concurrency,
                concurrency_id="chat", show_progress="hidden")

    def stop(request: gr.Request):
        cancel = ctx.cancels.get(ctx.browser(request))
        if cancel is not None:
            cancel.set()

    p.stop.click(stop, None, None, queue=True, concurrency_limit=None, show_progress="hidden")

    def new_session(state: dict):
        state = new_state()
        return state, [], gr.update(visible=False), gr.update(value=None)

    p.new.click(new_session, [p.state], [p.state, p.chatbot, p.exp_group, p.sessions], show_progress="hidden")

    def open_session(session_id: str | None, state: dict, request: gr.Request):
        if not session_id:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        user = ctx.user(request)
        try:
            rows = ctx.tutor.memory.messages(user, session_id)
            mode = next((s["mode"] for s in ctx.tutor.memory.sessions_for(user) if s["id"] == session_id), "explain")
        except Exception as exc:  # noqa: BLE001
            history = state.get("history", []) + [_notice(f"⚠️ {readable(exc)}")]
            return {**state, "history": history}, history, gr.skip(), gr.skip()
        history = [{"role": m["role"],
                    "content": stored_answer_markdown(m["content"], m.get("meta") or {}, uuid.uuid4().hex[:8])
                    if m["role"] == "assistant" else esc(m["content"])}
                   for m in rows if m["role"] in ("user", "assistant")]
        return {"session_id": session_id, "history": history}, history, mode, gr.update(visible=False)

    # .input: only when the learner picks one (the list is also refreshed after every turn).
    p.sessions.input(open_session, [p.sessions, p.state], [p.state, p.chatbot, p.mode, p.exp_group],
                     show_progress="hidden")


def session_choices(ctx: PageContext, user: str) -> list[tuple[str, str]]:
    rows = ctx.tutor.memory.sessions_for(user)
    out = []
    for r in rows[:50]:
        title = " ".join((r.get("title") or "(empty)").split())[:60]
        when = (r.get("updated_at") or "")[:16].replace("T", " ")
        out.append((f"{title} · {r['mode']} · {when}", r["id"]))
    return out


def _notice(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": f'<div class="turn-notice">{esc(text)}</div>'}


def _pump(gen, events: queue.Queue, cancel: threading.Event) -> None:
    """Run the turn; stop it at the first event after Stop unless a tool is still finishing."""
    running: str | None = None
    try:
        for event in gen:
            events.put(event)
            kind = getattr(event, "type", "")
            if kind == "tool_call" and event.name != "search_knowledge":
                running = event.name
            elif kind == "tool_result" and event.name == running:
                running = None
            if cancel.is_set() and running is None and kind not in ("answer", "error"):
                break
    except Exception as exc:  # noqa: BLE001 - the turn itself never raises; this is a last guard
        log.exception("turn crashed")
        events.put(exc)
    finally:
        try:
            gen.close()  # closes ask() and the model's stream: the model is free for the next turn
        except Exception:  # noqa: BLE001
            log.exception("closing the turn failed")
        events.put(_END)


def _send(ctx: PageContext, p: ChatPanel, message: str, state: dict, mode: str, request: gr.Request):
    received = time.perf_counter()
    message = (message or "").strip()
    if not message:
        yield _skip(p)
        return
    state = dict(state or new_state())
    history = list(state.get("history") or [])
    browser = ctx.browser(request)
    user = ctx.user(request)
    active = ctx.cancels.get(browser)
    if active is not None and not active.is_set():
        yield _out(p, chatbot=history + [_notice("The previous answer is still coming; wait for it or press Stop.")])
        return
    history.append({"role": "user", "content": esc(message)})
    if ctx.corpus is not None and not ctx.corpus.ready:
        history.append(_notice(ctx.corpus.line()))
        state["history"] = history
        yield _out(p, chatbot=history, state=state, msg="")
        return

    if not state.get("session_id"):
        state["session_id"] = uuid.uuid4().hex[:12]  # minted here: known even if the turn is stopped
    cancel = threading.Event()
    ctx.cancels[browser] = cancel
    view = TurnView()
    events: queue.Queue = queue.Queue()
    gen = ctx.tutor.turn(state["session_id"], message, mode=mode or None, user=user, cancel=cancel)
    worker = threading.Thread(target=_pump, args=(gen, events, cancel), name=f"turn-{browser[:8]}", daemon=True)
    worker.start()
    exp_seen = 0  # how much of the experiment the panel already shows
    ended = False
    try:
        yield _out(p, chatbot=history + view.messages(), state={**state, "history": history}, msg="",
                   send=gr.update(interactive=False), exp_group=gr.update(visible=False))
        while not ended:
            batch = _drain(events)
            for item in batch:
                if item is _END:
                    ended = True
                elif isinstance(item, BaseException):
                    view.error = readable(item)
                else:
                    if view.page_ttft_s is None and getattr(item, "type", "") == "token":
                        view.page_ttft_s = time.perf_counter() - received
                    view.apply(item)
            if cancel.is_set() and view.running_tool is None and not view.finished:
                view.stopped = True
                ended = True
            if not batch and not ended:
                continue
            updates: dict[str, Any] = {"chatbot": history + view.messages()}
            exp = view.experiment
            if exp is not None:
                stamp = len(exp.history) * 10 + (1 if exp.result is not None else 0) + (2 if exp.run_id else 0)
                if stamp != exp_seen:
                    exp_seen = stamp
                    updates.update(_experiment_updates(exp))
            if not ended:
                yield _out(p, **updates)
        if not view.finished and not view.stopped:
            view.error = view.error or "the turn ended without an answer"
        history = history + view.messages()
        state["history"] = history
        if view.session_id:
            state["session_id"] = view.session_id
        final = {"chatbot": history, "state": state, "send": gr.update(interactive=True)}
        if view.experiment is not None:
            final.update(_experiment_updates(view.experiment))
        try:
            final["sessions"] = gr.update(choices=session_choices(ctx, user), value=state["session_id"])
        except Exception:  # noqa: BLE001 - the list refreshes next time
            log.exception("listing sessions failed")
        yield _out(p, **final)
    finally:
        cancel.set()  # the browser went away or the turn ended: stop whatever still runs
        if ctx.cancels.get(browser) is cancel:
            del ctx.cancels[browser]


def _drain(events: queue.Queue, limit: int = 500) -> list:
    try:
        batch = [events.get(timeout=POLL_S)]
    except queue.Empty:
        return []
    while len(batch) < limit:
        try:
            batch.append(events.get_nowait())
        except queue.Empty:
            break
    return batch


def _experiment_updates(exp: ExperimentView) -> dict[str, Any]:
    import pandas as pd

    out: dict[str, Any] = {"exp_group": gr.update(visible=True), "exp_progress": exp.progress_html()}
    loss, acc = exp.series(exp.LOSS), exp.series(exp.ACCURACY)
    # Gradio builds each plot's Vega spec (its column types and colour domain) when the plot gets
    # a value and, within a run, only swaps the data afterwards. An empty frame before epoch 1 left
    # an object-dtype "value" column (treated as categories) and an empty colour domain: invisible
    # lines on empty axes. So: no value until there is data; explicit dtypes; and the x range set
    # together with the first data, which also makes Gradio rebuild the spec.
    dtypes = {"epoch": "int64", "series": "string", "value": "float64"}
    span = [1, max(exp.total or 0, exp.epoch, 2)]  # the whole run's width, so the curve grows into it
    for key, rows in (("loss_plot", loss), ("acc_plot", acc)):
        frame = pd.DataFrame(rows, columns=list(dtypes)).astype(dtypes) if rows else None
        out[key] = gr.update(value=frame, x_lim=span)
    if exp.result is not None:
        out["exp_diag"] = exp.diagnosis_markdown()
        image = load_image(exp.curves_path)
        out["exp_image"] = gr.update(value=image, visible=image is not None)
    else:
        out["exp_diag"] = ""
        out["exp_image"] = gr.update(value=None, visible=False)
    return out


_KEYS = ("chatbot", "state", "msg", "send", "exp_group", "exp_progress", "loss_plot", "acc_plot", "exp_image",
         "exp_diag", "sessions")


def _out(p: ChatPanel, **values: Any) -> tuple:
    return tuple(values.get(k, gr.skip()) for k in _KEYS)


def _skip(p: ChatPanel) -> tuple:
    return _out(p)
