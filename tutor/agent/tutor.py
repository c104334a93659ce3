"""The tutor: one conversation turn, from the learner's message to a cited answer.

    tutor = Tutor(settings)
    for event in tutor.turn(session_id, "train the CNN for 3 epochs with dropout 0.3", mode="explain"):
        ...   # events.py: passages, token, tool_call, tool_progress, tool_result, then answer (or error)

What a turn does, in order:
 1. open the learner's session (memory) and store the message;
 2. if the session waits for something (a quiz answer, a prediction before a run), handle it;
 3. else route the message (router.py: which tool, with only the arguments the learner gave);
 4. run the tool in a worker thread, relaying its progress events, under the turn's time cap;
 5. compose the reply: a cited answer for knowledge questions (ask.py), the tool's own cited
    text for experiments, quizzes and progress, a short chat reply for small talk;
 6. store the reply and end with one ``answer`` event (or one ``error`` event: never a traceback).
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from tutor.agent import prompts
from tutor.agent.ask import SourceRef, model_name, ask, check_question
from tutor.agent.attribution import content_words
from tutor.agent.events import (
    AnswerEvent,
    ErrorEvent,
    PassagesEvent,
    TokenEvent,
    ToolCallEvent,
    ToolCallRecord,
    ToolResultEvent,
)
from tutor.agent.native_router import make_router
from tutor.agent.router import Decision, Router, question_scope
from tutor.agent.scope import ExplanationsOnly, answer_parts
from tutor.agent.uploads import OwnUploadsOnly
from tutor.agent.tools import TOOLS, ToolContext, ToolOutput, grade
from tutor.config import Settings, get_settings
from tutor.errors import TutorError

log = logging.getLogger(__name__)
MODES = ("explain", "guide")
_DONE = object()


class Tutor:
    """The conversation engine behind every face. Thread-safe; one instance serves many sessions."""

    def __init__(self, settings: Settings | None = None, *, llm: Any | None = None, retriever: Any | None = None,
                 router: Router | None = None, memory: Any | None = None):
        self.settings = settings or get_settings()
        self._llm = llm
        self.retriever = retriever
        self.router = router or make_router(self.settings, llm=lambda: self.llm)
        self._memory = memory

    # -- lazy parts --------------------------------------------------------------------------------
    @property
    def memory(self):
        if self._memory is None:
            from tutor.agent.memory import open_memory

            self._memory = open_memory(self.settings)
        return self._memory

    @property
    def knowledge(self):
        """The retriever for this tutor's settings (its data dir), shared by the process."""
        if self.retriever is None:
            from knowledge.retrieve import get_retriever

            self.retriever = get_retriever(self.settings)
        return self.retriever

    @property
    def llm(self):
        if self._llm is None:
            from tutor.llm.load import get_llm

            self._llm = get_llm()
        return self._llm

    # -- one turn ------------------------------------------------------------------------------------
    def turn(self, session_id: str | None, message: str, *, mode: str | None = None, user: str | None = None,
             cancel: threading.Event | None = None, feed: str | None = None, top_k: int | None = None) -> Iterator[Any]:
        """Yield the events of one turn; the last one is an ``answer`` or an ``error``.

        ``feed`` / ``top_k`` narrow the retrieval of a knowledge answer (``tutor ask --feed docs``).
        """
        user = user or self.settings.user
        cancel = cancel or threading.Event()
        try:
            if mode is not None and mode not in MODES:
                raise TutorError(f"unknown mode '{mode}'; choose explain or guide")
            message = check_question(message)
            session = self.memory.open_session(user, session_id, mode)
        except TutorError as exc:
            yield ErrorEvent(message=str(exc), session_id=session_id)
            return
        try:
            yield from self._turn(user, session.id, session.mode, message, cancel, feed, top_k)
        except TutorError as exc:
            yield ErrorEvent(message=str(exc), session_id=session.id)
        except Exception as exc:  # noqa: BLE001 - a learner sees one line, the log keeps the rest
            log.exception("turn failed")
            yield ErrorEvent(message=f"something went wrong in this turn ({type(exc).__name__}: "
                                     f"{' '.join(str(exc).split())[:200]}); the conversation can go on",
                             session_id=session.id)

    def _turn(self, user: str, sid: str, mode: str, message: str, cancel: threading.Event,
              feed: str | None = None, top_k: int | None = None) -> Iterator[Any]:
        t0 = time.perf_counter()
        history = [(m["role"], m["content"]) for m in self.memory.messages(user, sid, limit=self.settings.history_turns)]
        self.memory.add_message(user, sid, "user", message)
        state = self.memory.get_state(user, sid)
        ctx = ToolContext(settings=self.settings, memory=self.memory, user=user, session_id=sid, cancel=cancel,
                          retriever=OwnUploadsOnly(self.knowledge, self.settings, user),
                          deadline=time.monotonic() + self.settings.turn_max_seconds)
        decision = self.router.route(message)
        if feed is not None and decision.tool == "search_knowledge":
            decision.arguments["feed"] = feed
        reply = _Reply(session_id=sid, mode=mode, route=decision.tool)

        # While a quiz question or a prediction is pending, the reply is the learner's answer unless
        # its wording unmistakably asks for something else ("quiz me on CNNs", "how am I doing").
        answering = decision.rule in (None, "search_knowledge", "none")
        if state.get("quiz") and answering:
            # The learner is answering the quiz question asked in the previous turn.
            pending = state.pop("quiz")
            self.memory.set_state(user, sid, state)
            yield from self._tool(ctx, reply, "grade", lambda: grade(message, pending, ctx), {"answer": message})
        elif state.get("predict") and answering:
            pending = state.pop("predict")
            self.memory.set_state(user, sid, state)
            yield from self._experiment(ctx, reply, pending, prediction=message)
        elif mode == "guide" and state.get("exercise") and answering and is_attempt(message, state["exercise"]):
            # Guide mode: the learner is answering the guiding question of the exercise in progress.
            yield from self._attempt(ctx, reply, state, message)
        elif decision.tool == "run_experiment":
            yield from self._run_request(ctx, reply, decision, mode, state)
        elif decision.tool in TOOLS and decision.tool != "search_knowledge":
            yield from self._call(ctx, reply, decision.tool, decision.arguments)
        elif decision.tool == "none":
            yield from self._chat(reply, message, history, cancel)
        else:
            yield from self._knowledge(ctx, reply, decision, mode, message, history, top_k)
            if mode == "guide":
                # An exercise in progress while the tutor's guiding question waits for an answer.
                state["exercise"] = {"question": message, "asked": reply.text.split("\n")[0], "attempts": 0}
                self.memory.set_state(user, sid, state)

        reply.latency_s = time.perf_counter() - t0
        answer = reply.event()
        # The cited passages are kept with the reply, so a reopened session still opens each [n].
        self.memory.add_message(user, sid, "assistant", answer.text,
                                meta={"route": answer.route, "tools": [c.name for c in answer.tool_calls],
                                      "citations": [c.model_dump() for c in answer.citations],
                                      "sources": [c.model_dump() for c in answer.sources]})
        yield answer

    # -- the paths -----------------------------------------------------------------------------------
    def _knowledge(self, ctx, reply, decision: Decision, mode: str, message: str, history,
                   top_k: int | None = None) -> Iterator[Any]:
        """A knowledge question: retrieve, then a cited answer (explain) or a guiding question (guide).

        A two-part conceptual question ("what does X do, and how does Y ...") is answered part by
        part, each from its own passages: given both topics in one prompt, the 0.5B model merged
        them (backprop "sets weights to zero", docs/answers.md).
        """
        args = decision.arguments
        yield ToolCallEvent(name="search_knowledge", arguments=args)
        guide = mode == "guide"
        retriever = ctx.retriever  # the learner's view: other learners' uploads are not in it
        concept = args.get("feed") is None and question_scope(message) == "concept"
        if concept:
            retriever = ExplanationsOnly(retriever)
        parts = answer_parts(message, retriever, self.settings.ask_min_similarity) if concept and not guide else [message]
        answers = []
        for i, part in enumerate(parts):
            offset = len(reply.citations)
            if i:
                reply.text += "\n\n"
                yield TokenEvent(text="\n\n")
            answer = None
            for event in ask(part, feed=args.get("feed"), top_k=top_k, llm=self.llm, retriever=retriever,
                             stream=True, settings=self.settings, style="guide" if guide else "exact",
                             history=history):
                if event.type == "passages":
                    reply.passages = [*reply.passages, *event.passages] if i else event.passages
                    yield PassagesEvent(passages=event.passages)
                elif event.type == "token" and ctx.cancel.is_set():
                    break  # Stop: the learner keeps what was written so far
                elif event.type == "token" and not guide:
                    text = _shift_markers(event.text, offset)
                    reply.mark_first_token()
                    reply.text += text
                    yield TokenEvent(text=text)
                elif event.type == "answer":
                    answer = event.answer
            if answer is None:  # stopped mid-answer
                reply.text = reply.text.strip() + " (stopped)"
                reply.model = model_name(self.llm)
                return
            answers.append(answer)
            reply.citations += [SourceRef(**{**c.model_dump(), "n": c.n + offset}) for c in answer.citations]
            reply.sources += [SourceRef(**{**c.model_dump(), "n": len(reply.sources) + j + 1})
                              for j, c in enumerate(answer.sources)]
        answer = answers[-1]
        grounded = any(a.grounded for a in answers)
        reply.record("search_knowledge", args, {"passages": len(reply.passages), "grounded": grounded,
                                                "parts": len(parts)})
        yield ToolResultEvent(name="search_knowledge", message=f"{len(reply.passages)} passages",
                              result={"passages": len(reply.passages), "parts": len(parts)})
        reply.model, reply.grounded = answer.model, grounded
        reply.extra = answer.model_dump() if len(answers) == 1 else {"parts": [a.model_dump() for a in answers]}
        if reply.citations:
            reply.sources = []  # sources are only for answers that cite nothing
        if guide:
            # Uncovered by the sources, an exercise can still be reasoned out: say so, and guide.
            text = guide_reply(answer.answer, message) if answer.grounded else prompts.GUIDE_UNCOVERED.substitute()
            reply.citations = []
            if answer.grounded and reply.passages:
                top = reply.passages[0]
                text += f"\nA place to look: [1] {' › '.join(x for x in (top.title, top.section) if x)}."
                reply.citations = [SourceRef(**{**top.model_dump(), "n": 1})]
            reply.text = text
            reply.mark_first_token()
            yield TokenEvent(text=text)
        else:
            reply.text = reply.text.strip()

    def _attempt(self, ctx, reply, state: dict, message: str) -> Iterator[Any]:
        """Guide mode, the learner's try at the exercise: a guiding question about *their* answer.

        Measured before this path existed (evals pedagogy --dataset guide_followups.jsonl): the
        attempt was routed as a new question ("784 times 64, so 50176 weights?" drew "my sources
        don't cover that"), and 3 of 24 second replies mentioned anything the learner had said.
        """
        exercise = state["exercise"]
        exercise["attempts"] += 1
        if exercise["attempts"] >= MAX_ATTEMPTS:
            state.pop("exercise")  # after a few tries the learner may ask for the answer in explain mode
        question = prompts.GUIDE_ATTEMPT_QUESTION.substitute(exercise=exercise["question"], asked=exercise["asked"],
                                                             attempt=message)
        yield ToolCallEvent(name="search_knowledge", arguments={"query": question})
        answer = None
        for event in ask(question, llm=self.llm, retriever=ctx.retriever, stream=True, settings=self.settings,
                         style="attempt"):
            if event.type == "passages":
                reply.passages = event.passages
                yield PassagesEvent(passages=event.passages)
            elif event.type == "answer":
                answer = event.answer
            if ctx.cancel.is_set():
                break
        if answer is None:
            reply.text = "(stopped)"
            return
        reply.record("search_knowledge", {"query": question}, {"passages": len(reply.passages),
                                                               "grounded": answer.grounded})
        text = guide_reply(answer.answer, message) if answer.grounded else ""
        fixed = prompts.GUIDE_FALLBACK_QUESTION.substitute()
        repeats = max(_overlap(_words(text), _words(exercise["asked"])),
                      _overlap(_words(text), _words(exercise["question"])))
        if not text or text == fixed or repeats >= 0.7:
            # The model asked its first question (or the exercise) again, which the 0.5B model mostly
            # does, or nothing: revoice the learner's try and ask them to check it, never the same
            # question twice.
            text = prompts.GUIDE_REVOICE.substitute(attempt=_clip(message))
        if "exercise" in state:
            exercise["asked"] = text
        self.memory.set_state(ctx.user, ctx.session_id, state)
        reply.model, reply.grounded = answer.model, answer.grounded
        reply.text = text
        reply.mark_first_token()
        yield TokenEvent(text=text)

    def _run_request(self, ctx, reply, decision: Decision, mode: str, state: dict) -> Iterator[Any]:
        args = dict(decision.arguments)
        if "kind" not in args:
            from tutor.agent.tools.experiment import recipe_kinds

            text = ("Which experiment should I run? I can train: " + ", ".join(recipe_kinds())
                    + ". For example: \"train the cnn for 3 epochs with dropout 0.3\".")
            yield from reply.say(text)
            return
        kind = args.pop("kind")
        if mode == "guide":
            # Predict, then run: the learner commits to a guess before seeing the result.
            state["predict"] = {"kind": kind, "params": args}
            self.memory.set_state(ctx.user, ctx.session_id, state)
            shown = ", ".join(f"{k}={v}" for k, v in args.items()) or "default settings"
            yield from reply.say(prompts.PREDICT_FIRST.substitute(kind=kind, params=shown))
            return
        yield from self._experiment(ctx, reply, {"kind": kind, "params": args})

    def _experiment(self, ctx, reply, request: dict, prediction: str | None = None) -> Iterator[Any]:
        from tutor.agent.tools.experiment import RunExperimentArgs

        try:
            args = RunExperimentArgs(kind=request["kind"], params=request.get("params") or {})
        except ValidationError as exc:
            yield from reply.say(_validation_line(exc))
            return
        yield from self._tool(ctx, reply, "run_experiment", lambda: TOOLS["run_experiment"].run(args, ctx),
                              {"kind": args.kind, **args.params}, defaults=args.defaults_used())
        if prediction is not None and reply.tool_calls and reply.tool_calls[-1].result.get("status") == "ok":
            result = reply.tool_calls[-1].result
            metric = result.get("primary_metric") or "test_accuracy"
            value = (result.get("metrics") or {}).get(metric)
            verdict = (result.get("diagnosis") or {}).get("verdict")
            note = f", and the diagnosis says {verdict.replace('_', ' ')}" if verdict else ""
            shown = f"{100 * value:.1f}%" if isinstance(value, (int, float)) and "accuracy" in metric else str(value)
            yield from reply.say("\n" + prompts.PREDICTION_CHECK.substitute(
                prediction=prediction, metric=metric.replace("_", " "), value=shown, overfit_note=note)
                + " How close was your guess, and what surprised you?")

    def _call(self, ctx, reply, name: str, raw_args: dict) -> Iterator[Any]:
        tool = TOOLS[name]
        try:
            args = tool.args.model_validate(raw_args)
        except ValidationError as exc:
            yield from reply.say(_validation_line(exc))
            return
        yield from self._tool(ctx, reply, name, lambda: tool.run(args, ctx), args.model_dump(exclude_none=True))

    def _tool(self, ctx: ToolContext, reply, name: str, fn, arguments: dict, defaults: dict | None = None) -> Iterator[Any]:
        """Run one tool in a worker thread; relay its progress; then its result and reply."""
        yield ToolCallEvent(name=name, arguments=arguments, defaults=defaults or {})
        events: queue.Queue = queue.Queue()
        ctx.emit = events.put
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["out"] = fn()
            except TutorError as exc:
                box["out"] = ToolOutput(ok=False, message=str(exc), reply=f"I couldn't do that: {exc}")
            except Exception as exc:  # noqa: BLE001 - a failed tool becomes an honest message
                log.exception("tool %s failed", name)
                box["out"] = ToolOutput(ok=False, message=f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}",
                                        reply=f"The {name} tool failed ({type(exc).__name__}); nothing else was changed.")
            finally:
                events.put(_DONE)

        worker = threading.Thread(target=work, name=f"tool-{name}", daemon=True)
        worker.start()
        while True:
            try:
                item = events.get(timeout=0.2)
            except queue.Empty:
                if ctx.deadline is not None and time.monotonic() > ctx.deadline and not ctx.cancel.is_set():
                    ctx.cancel.set()  # the run sees it and stops; its result still arrives
                continue
            if item is _DONE:
                break
            yield item
        out: ToolOutput = box["out"]
        if defaults and out.ok:
            shown = ", ".join(f"{k}={v}" for k, v in list(defaults.items())[:8])
            out.reply = f"(Defaults used for what you didn't specify: {shown}.)\n" + out.reply
        reply.record(name, arguments, out.result)
        yield ToolResultEvent(name=name, ok=out.ok, message=out.message, result=out.result)
        if out.citations:
            offset = len(reply.citations)
            reply.citations += [SourceRef(**{**c.model_dump(), "n": c.n + offset}) for c in out.citations]
            out.reply = _shift_markers(out.reply, offset)
        yield from reply.say(out.reply or (out.message[:1].upper() + out.message[1:] + "."))

    def _chat(self, reply, message: str, history, cancel: threading.Event) -> Iterator[Any]:
        """Small talk and questions about the conversation: no retrieval, the history in view."""
        from llama_index.core.base.llms.types import ChatMessage, MessageRole

        roles = {"user": MessageRole.USER, "assistant": MessageRole.ASSISTANT}
        messages = [ChatMessage(role=MessageRole.SYSTEM, content=prompts.CHAT_SYSTEM.substitute())]
        messages += [ChatMessage(role=roles[r], content=t) for r, t in history if r in roles]
        messages.append(ChatMessage(role=MessageRole.USER, content=message))
        llm = self.llm
        reply.model = model_name(llm)
        for response in llm.stream_chat(messages):
            if cancel.is_set():
                break
            if response.delta:
                reply.mark_first_token()
                reply.text += response.delta
                yield TokenEvent(text=response.delta)
        reply.text = reply.text.strip()


class _Reply:
    """What the turn has said and done so far; becomes the final AnswerEvent."""

    def __init__(self, *, session_id: str, mode: str, route: str):
        self.session_id, self.mode, self.route = session_id, mode, route
        self.text = ""
        self.citations: list[SourceRef] = []
        self.sources: list[SourceRef] = []
        self.passages: list[SourceRef] = []
        self.tool_calls: list[ToolCallRecord] = []
        self.model = "none"
        self.grounded = False
        self.extra: dict[str, Any] = {}
        self.latency_s = 0.0
        self._t0 = time.perf_counter()
        self.ttft_s: float | None = None

    def mark_first_token(self) -> None:
        if self.ttft_s is None:
            self.ttft_s = time.perf_counter() - self._t0

    def say(self, text: str) -> Iterator[TokenEvent]:
        if not text:
            return
        if self.text and not text.startswith("\n"):
            text = "\n" + text
        self.mark_first_token()
        self.text += text
        yield TokenEvent(text=text)

    def record(self, name: str, arguments: dict, result: dict) -> None:
        self.tool_calls.append(ToolCallRecord(name=name, arguments=arguments, result=result))

    def event(self) -> AnswerEvent:
        return AnswerEvent(session_id=self.session_id, mode=self.mode, text=self.text.strip(), citations=self.citations,
                           sources=self.sources, tool_calls=self.tool_calls, model=self.model, latency_s=self.latency_s,
                           ttft_s=self.ttft_s, grounded=self.grounded or bool(self.citations), route=self.route,
                           extra=self.extra)


#: Tries at one guide-mode exercise before the tutor stops treating replies as attempts.
MAX_ATTEMPTS = 3


def is_attempt(message: str, exercise: dict) -> bool:
    """Whether a guide-mode message answers the exercise in progress rather than asking something new.

    A new question opens with a question word, holds no number, and shares little with the exercise
    and the tutor's question ("what is attention?" after a parameter-count exercise); anything else
    is a try at it ("how about 50240, with the biases?").
    """
    words = content_words(message)
    if re.search(r"\d", message) or not re.match(r"\s*(?:what|why|how|which|when|where|who|can you|could you|explain|tell me)\b", message, re.I):
        return True
    known = content_words(f"{exercise['question']} {exercise['asked']}")
    return bool(words) and len(words & known) / len(words) >= 1 / 3


def guide_reply(model_text: str, message: str) -> str:
    """Only the model's questions survive in guide mode: a statement could hand over the answer.

    A question that merely repeats the learner's own is no guidance either; then a fixed one is used.
    """
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(model_text.split()))
    asked = _words(message)
    questions = [s for s in sentences if s.endswith("?") and len(s) > 10 and _overlap(_words(s), asked) < 0.7]
    if questions:
        return " ".join(questions[:2])
    return prompts.GUIDE_FALLBACK_QUESTION.substitute()


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _clip(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, len(a))


def _shift_markers(text: str, offset: int) -> str:
    if not offset:
        return text
    return re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + offset}]", text)


def _validation_line(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
        parts.append(msg if not loc or loc in msg else f"{loc}: {msg}")
    return "I can't run that: " + "; ".join(parts) + "."
