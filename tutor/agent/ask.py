"""`ask`: one grounded answer with inline citations, streamed or whole.

    retrieve → relevance gate → fit passages into the token budget → prompt
    → stream tokens (citation markers rewritten on the fly) → Answer

Never invents: when retrieval finds nothing relevant the model is not called and the answer
says so; the answer can only cite passages it was given (other numbers are dropped); when the
model cites nothing, the top passages are attached as plain "Sources" instead of pretending.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from knowledge.citation import Citation
from tutor.agent import prompts
from tutor.agent.citations import CitationRewriter
from tutor.agent.context import FittedContext, fit_passages, passage_budget, token_counter
from tutor.config import FEEDS, Settings, get_settings
from tutor.errors import TutorError, check_choice, check_text, check_top_k

MAX_QUESTION_CHARS = 2000
#: How many of the top passages become "Sources" when the model cited none inline.
FALLBACK_SOURCES = 3


class SourceRef(BaseModel):
    """One numbered source as the user sees it under the answer."""

    n: int = Field(description="The number used in the answer text, 1-based, no gaps.")
    source: str = Field(description="Stable source id, e.g. 'roadmap:deep_learning_roadmap.md'.")
    title: str = Field("", description="Document title.")
    section: str = Field("", description="Heading path inside the document.")
    text: str = Field(description="The passage text exactly as given to the model.")
    url: str | None = Field(None, description="Where the original lives, when known.")


class Answer(BaseModel):
    question: str = Field(description="The question as asked (stripped).")
    answer: str = Field(description="The answer text; its [n] markers match `citations`.")
    citations: list[SourceRef] = Field(
        default_factory=list, description="Passages that were given to the model AND cited, numbered as in the text."
    )
    sources: list[SourceRef] = Field(
        default_factory=list,
        description="Only when nothing was cited inline: the top passages the answer was based on.",
    )
    model: str = Field(description="Model that wrote the answer ('none' when no model was called).")
    latency_s: float = Field(description="Wall time from question to the last token, seconds.")
    ttft_s: float | None = Field(None, description="Seconds to the first answer token.")
    used_passages: int = Field(description="Passages placed in the prompt.")
    grounded: bool = Field(description="False when retrieval found nothing relevant and the model was not asked.")
    invalid_citations: list[int] = Field(
        default_factory=list, description="Numbers the model cited that matched no given passage (removed)."
    )
    truncated_context: bool = Field(False, description="Whether the last passage was cut to fit the budget.")


class AskEvent(BaseModel):
    """One step of a streamed answer: 'passages' (what was retrieved), 'token', then 'answer'."""

    type: Literal["passages", "token", "answer"] = Field(description="Which kind of event this is.")
    text: str = Field("", description="For 'token': the new answer text.")
    passages: list[SourceRef] = Field(default_factory=list, description="For 'passages': the prompt's passages.")
    answer: Answer | None = Field(None, description="For 'answer': the final Answer.")


Retriever = Callable[..., list[Citation]]


# --- public entry ------------------------------------------------------------------------
def ask(
    question: str,
    *,
    top_k: int | None = None,
    feed: str | None = None,
    llm: Any | None = None,
    retriever: Any | None = None,
    stream: bool = False,
    settings: Settings | None = None,
    style: Literal["exact", "plain", "guide", "attempt"] = "exact",
    most_relevant: Literal["first", "last"] = "first",
    history: Sequence[tuple[str, str]] | None = None,
) -> Answer | Iterator[AskEvent]:
    """Answer ``question`` from the knowledge base with inline citations.

    ``llm``: a llama-index LLM (default ``tutor.llm.load.get_llm()``); ``retriever``: a callable
    ``(query, top_k=, feed=) -> list[Citation]`` or an object with such a ``.search`` (default
    ``knowledge.retrieve.search``). ``stream=True`` returns an iterator of :class:`AskEvent`.
    ``style`` / ``most_relevant`` exist for the faithfulness eval; the defaults are the measured best.
    ``style="guide"`` asks for a hint and a guiding question instead of the answer (the agent's guide
    mode). ``history``: earlier ``(role, text)`` turns of the conversation, oldest first; they are
    shown to the model before the passages and may be dropped to fit, the question never is.
    """
    settings = settings or get_settings()
    question = check_question(question)
    if feed is not None:
        check_choice(feed, FEEDS, "feed")
    if top_k is not None:
        check_top_k(top_k)
    events = _run(question, top_k, feed, llm, retriever, settings, style, most_relevant, list(history or []))
    if stream:
        return events
    answer = None
    for event in events:
        if event.type == "answer":
            answer = event.answer
    assert answer is not None  # _run always ends with an answer event
    return answer


def check_question(question: Any) -> str:
    """The question with whitespace collapsed; empty or over-long questions get one plain error."""
    return check_text(question, "question", example='ask something, e.g. tutor ask "What does dropout do?"',
                      max_chars=MAX_QUESTION_CHARS)


# --- the pipeline ------------------------------------------------------------------------
def _run(question, top_k, feed, llm, retriever, settings, style, most_relevant, history) -> Iterator[AskEvent]:
    t0 = time.perf_counter()
    passages = retrieve(question, top_k=top_k or settings.top_k, feed=feed, retriever=retriever)
    similarity = best_similarity(question, feed=feed, retriever=retriever)
    relevant = passages if similarity is None or similarity >= settings.ask_min_similarity else []
    missing: list[str] = []
    if relevant and settings.check_names:
        from tutor.agent.name_gate import check_names, lab_texts

        # A question about a named thing needs a passage naming it (docs/answers.md: "Llama 5"
        # passed the similarity gate on the LLaMA note). Passages the retrieval missed join here.
        # The question's own view first, then the one it narrows (ExplanationsOnly leaves out the API docs).
        views = [retriever, *([retriever.unscoped] if hasattr(retriever, "unscoped") else [])]
        searches = [lambda query, k, view=view: retrieve(query, top_k=k, feed=feed, retriever=view) for view in views]
        names = check_names(question, relevant, searches, known=lab_texts())
        missing = names.missing
        relevant = [] if missing else [relevant[0], *names.added, *relevant[1:]]
    if not relevant:
        feeds = ", ".join(settings.docs_packages[:4])
        text = prompts.NAMES_NOT_COVERED.substitute(names=", ".join(missing), feeds=feeds) if missing else \
            prompts.NO_CONTEXT_ANSWER.substitute(feeds=feeds)
        yield AskEvent(type="passages")
        yield AskEvent(type="token", text=text)
        yield AskEvent(
            type="answer",
            answer=Answer(
                question=question, answer=text, model="none", latency_s=time.perf_counter() - t0,
                used_passages=0, grounded=False,
            ),
        )
        return

    llm = llm if llm is not None else _default_llm()
    count, exact = token_counter(llm)
    system, user_fixed = _prompt_parts(question, style)
    window = _context_window(llm, settings)
    # Earlier turns get at most a quarter of the window; the oldest go first (docs/agent.md).
    history = _fit_history(history, budget=window // 4, count=count)
    budget = passage_budget(
        context_window=window,
        max_new_tokens=settings.max_new_tokens,
        fixed_prompt_tokens=count(system) + count(user_fixed) + sum(count(t) + 4 for _, t in history),
    )
    fitted = fit_passages(relevant, budget=budget, count=count, exact_tokens=exact, style=style, most_relevant=most_relevant)
    if not fitted.passages:
        raise TutorError(
            "The context window is too small for any passage; raise context_window or lower max_new_tokens."
        )
    yield AskEvent(type="passages", passages=_refs(fitted.passages, range(1, len(fitted.passages) + 1)))

    messages = build_messages(question, fitted, style, history)
    rewriter = CitationRewriter(len(fitted.passages))
    ttft = None
    deltas = _stream_chat(llm, messages)
    from tutor.agent.paste_guard import guarded

    deltas = guarded(deltas, [" › ".join(x for x in (p.title, p.section) if x) for p in fitted.passages])
    if settings.attribute_citations and style in ("exact", "plain"):
        from tutor.agent.attribution import attributed

        # The model sees each passage under its heading, so the heading's words count too.
        deltas = attributed(deltas, [f"{p.title} {p.section}\n{p.text}" for p in fitted.passages])
    rescue = None
    if settings.rescue_answers and style == "exact":
        from knowledge.embed import get_encoder
        from tutor.agent.rescue import AnswerRescue, rescued

        # The encoder is only loaded if the fallback is needed (it usually is already, for retrieval).
        rescue = AnswerRescue(question, [p.text for p in fitted.passages], lambda texts: get_encoder(settings).encode(texts))
        deltas = rescued(deltas, rescue)
    for delta in deltas:
        shown = rewriter.feed(delta)
        if shown:
            ttft = ttft if ttft is not None else time.perf_counter() - t0
            yield AskEvent(type="token", text=shown)
    tail = rewriter.flush()
    if tail:
        yield AskEvent(type="token", text=tail)

    cited = [fitted.passages[orig - 1] for orig in rewriter.order]
    citations = _refs(cited, range(1, len(cited) + 1))
    sources: list[SourceRef] = []
    if not citations and not (rescue and rescue.declined):  # a declined answer rests on no passage
        top = _by_relevance(fitted, most_relevant)[:FALLBACK_SOURCES]
        sources = _refs(top, range(1, len(top) + 1))
    yield AskEvent(
        type="answer",
        answer=Answer(
            question=question,
            answer=rewriter.text.strip(),
            citations=citations,
            sources=sources,
            model=model_name(llm),
            latency_s=time.perf_counter() - t0,
            ttft_s=ttft,
            used_passages=len(fitted.passages),
            grounded=True,
            invalid_citations=rewriter.invalid,
            truncated_context=fitted.truncated,
        ),
    )


def retrieve(question: str, *, top_k: int, feed: str | None, retriever: Any | None = None) -> list[Citation]:
    """Passages for ``question``, best first, from ``retriever`` or the default knowledge search."""
    if retriever is None:
        from knowledge.retrieve import search

        return list(search(question, top_k=top_k, feed=feed))
    fn = getattr(retriever, "search", retriever)
    return list(fn(question, top_k=top_k, feed=feed))


def best_similarity(question: str, *, feed: str | None, retriever: Any | None = None) -> float | None:
    """Cosine similarity of the question to its nearest passage (dense search, top 1).

    The relevance gate reads this rather than the hybrid result's score: reciprocal rank fusion
    scores are ranks, so an off-topic question's best hit scores as high as a perfect match's.
    ``None`` when the retriever cannot search densely (a caller-supplied function): no gate then.
    """
    if retriever is None:
        from knowledge.retrieve import search as fn
    else:
        fn = getattr(retriever, "search", retriever)
    try:
        hits = fn(question, top_k=1, feed=feed, mode="dense")
    except TypeError:
        return None
    return float(hits[0].score) if hits else 0.0


def build_messages(question: str, fitted: FittedContext, style: str = "exact",
                   history: Sequence[tuple[str, str]] = ()) -> list:
    """The chat turns for one answer: system rules, earlier turns, then passages + question."""
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    system, _ = _prompt_parts(question, style)
    user_t = _USER_TEMPLATES[style]
    user = user_t.substitute(passages="\n\n".join(fitted.blocks), question=question)
    roles = {"user": MessageRole.USER, "assistant": MessageRole.ASSISTANT}
    earlier = [ChatMessage(role=roles[r], content=t) for r, t in history if r in roles]
    return [ChatMessage(role=MessageRole.SYSTEM, content=system), *earlier, ChatMessage(role=MessageRole.USER, content=user)]


def _fit_history(history: list[tuple[str, str]], *, budget: int, count) -> list[tuple[str, str]]:
    """The newest earlier turns that fit in ``budget`` tokens, oldest first."""
    kept: list[tuple[str, str]] = []
    used = 0
    for role, text in reversed(history):
        cost = count(text) + 4
        if used + cost > budget:
            break
        kept.append((role, text))
        used += cost
    return list(reversed(kept))


# --- helpers ---------------------------------------------------------------------------------
_SYSTEM_TEMPLATES = {"exact": prompts.TUTOR_SYSTEM, "plain": prompts.PLAIN_SYSTEM, "guide": prompts.GUIDE_SYSTEM,
                     "attempt": prompts.GUIDE_SYSTEM}
_USER_TEMPLATES = {"exact": prompts.TUTOR_USER, "plain": prompts.PLAIN_USER, "guide": prompts.GUIDE_USER,
                   "attempt": prompts.GUIDE_ATTEMPT_USER}


def _prompt_parts(question: str, style: str) -> tuple[str, str]:
    return _SYSTEM_TEMPLATES[style].substitute(), _USER_TEMPLATES[style].substitute(passages="", question=question)


def _refs(passages: Sequence[Citation], numbers) -> list[SourceRef]:
    return [
        SourceRef(n=n, source=p.source, title=p.title, section=p.section, text=p.text, url=p.url)
        for n, p in zip(numbers, passages)
    ]


def _by_relevance(fitted: FittedContext, most_relevant: str) -> list[Citation]:
    return list(reversed(fitted.passages)) if most_relevant == "last" else list(fitted.passages)


def _default_llm():
    from tutor.llm.load import get_llm

    return get_llm()


def _context_window(llm: Any, settings: Settings) -> int:
    window = settings.context_window
    meta = getattr(llm, "metadata", None)
    model_window = getattr(meta, "context_window", None)
    if isinstance(model_window, int) and model_window > 0:
        window = min(window, model_window)
    return window


def model_name(llm: Any) -> str:
    """The model's name as answers report it (its metadata's model_name, else its class)."""
    meta = getattr(llm, "metadata", None)
    return str(getattr(meta, "model_name", None) or type(llm).__name__)


def _stream_chat(llm: Any, messages: list) -> Iterator[str]:
    """Text deltas from a llama-index LLM's stream_chat (falls back to chat for non-streaming LLMs)."""
    try:
        gen = llm.stream_chat(messages)
    except NotImplementedError:
        yield llm.chat(messages).message.content or ""
        return
    previous = ""
    for response in gen:
        delta = response.delta
        if delta is None:  # some LLMs only send the growing full text
            full = response.message.content or ""
            delta, previous = full[len(previous) :], full
        if delta:
            yield delta
