"""``quiz``: a question made from a knowledge passage, a rubric, and the grading of the answer.

The question is built from one definitional sentence of a passage on the topic ("Dropout
randomly drops units ..." → "What does dropout do?"); the rubric is that sentence's key terms.
Grading is by rubric terms found in the learner's answer (stemmed, so "drops"/"dropping"
count), which makes scores reproducible and explainable; the feedback names what was covered,
what was missed, and quotes the passage with its citation. Built by hand: no library grades a
free-text answer against a term rubric.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from tutor.agent.ask import SourceRef
from tutor.agent.text import sentences as split_sentences
from tutor.agent.text import stem
from tutor.agent.tools.base import ToolContext, ToolOutput, as_ref, search_passages
from tutor.agent.topics import BY_ID, TOPIC_IDS

TopicId = Literal[tuple(TOPIC_IDS)]  # type: ignore[valid-type]
STOPWORDS = set("""a an the and or of to in on for with by from as at is are was were be been being it its this that
these those which who whom what when where why how than then so such can could may might will would should do does
did done not no yes into onto over under between about after before during each every both either neither also very
more most much many some any all one two three their there they them you your we our us he she his her i me my
used using use uses called often usually typically just only same other another first second new way ways make makes
network networks model models neural like learn learning data set sets paper result results work works show shows
number large small good better best""".split())
_DEFINITION = re.compile(
    r"^(?P<subject>[A-Za-z`][\w`\-\s().,/']{2,60}?)\s+(?P<verb>is|are|does|do|means|refers to|lets|allows|makes|"
    r"computes|learns|uses|prevents|reduces|adds|replaces|splits|keeps|combines|maps|trains|solves|addresses|introduces|avoids|predicts|reads|processes|stores|controls|decides|updates|gives|turns|feeds|approximates|consists of|takes|produces|generates|retrieves|freezes|injects|detects|assigns|labels|classifies)\s+(?P<rest>.{25,})$")
_LINKY = re.compile(r"roadmap links|references|see also|further reading", re.IGNORECASE)


class QuizArgs(BaseModel):
    """Ask the learner a question on a roadmap topic and grade the answer in the next message."""

    topic: TopicId | None = Field(None, description="Roadmap topic id; none = the next topic to study.")  # type: ignore[valid-type]


def _terms(text: str) -> list[str]:
    words = re.findall(r"[A-Za-z][A-Za-z\-_]+", text)
    out: list[str] = []
    for w in words:
        term = stem(w)
        if len(w) > 3 and w.lower() not in STOPWORDS and term not in out:
            out.append(term)
    return out


#: Sentence openings that are not a subject ("At its core is ...", "In practice it ...").
_NOT_SUBJECT = set("at in on for with by this it these those that there here such as when while if after before "
                   "because since although its their our his her essentially every each one most many along now "
                   "today later then thus also so but and or however instead still yet both some all first second "
                   "finally over under into from we they you i".split())
_PRONOUN = re.compile(r"\b(?:it|they|we|this|these|those|he|she|you)\b", re.IGNORECASE)
_DETERMINERS = ("the ", "a ", "an ")


def make_question(passages: list[Any], topic_words: set[str] | None = None) -> dict[str, Any] | None:
    """A passage sentence that defines something on the topic becomes a question with a term rubric.

    Sentences whose subject names the topic are preferred; among equals, the best-ranked passage wins.
    """
    topic_words = {w.lower() for w in (topic_words or set())}
    candidates = []
    for rank, passage in enumerate(passages):
        if _LINKY.search(passage.section or ""):
            continue
        for sentence in split_sentences(passage.text, min_chars=40, max_chars=400):
            m = _DEFINITION.match(sentence)
            if not m:
                continue
            subject = m.group("subject").strip(" ,")
            first = subject.split()[0].lower().strip("`(")
            if len(subject.split()) > 6 or subject.lower() in STOPWORDS or first in _NOT_SUBJECT or _PRONOUN.search(subject):
                continue
            on_topic = any(w in subject.lower() for w in topic_words)
            if topic_words and not on_topic:
                continue  # a question about something else would grade the learner on the wrong topic
            if subject.lower().startswith(_DETERMINERS) and not on_topic:
                continue  # "The message is ..." names no concept
            candidates.append((0 if on_topic else 1, rank, m, subject, sentence, passage))
    for _, _, m, subject, sentence, passage in sorted(candidates, key=lambda c: (c[0], c[1])):
        verb = m.group("verb")
        question = f"What {'is' if verb == 'is' else 'are' if verb == 'are' else 'does'} {subject}" + (
            "?" if verb in ("is", "are") else f" {'do' if verb in ('do', 'does') else _base(verb)}?")
        subject_terms = set(_terms(subject))
        # Rubric: the sentence's content words the passage itself repeats most (its topic words).
        every = [stem(w) for w in re.findall(r"[A-Za-z][A-Za-z\-_]+", passage.text)]
        counts = {t: every.count(t) for t in set(every)}
        words = [t for t in _terms(m.group("rest")) if t not in subject_terms and len(t) >= 4]
        rubric = sorted(words, key=lambda t: -counts.get(t, 0))[:3]
        if len(rubric) < 2:
            continue
        return {"question": question, "rubric": rubric, "reference": sentence, "passage": passage}
    return _fallback_question(passages, topic_words)


def _fallback_question(passages: list[Any], topic_words: set[str] | None = None) -> dict[str, Any] | None:
    """No defining sentence: ask for the gist of the best passage; the rubric is its most repeated words."""
    for passage in passages:
        if _LINKY.search(passage.section or ""):
            continue
        if topic_words and not any(w in (passage.text + passage.title).lower() for w in topic_words):
            continue
        sentences = split_sentences(passage.text, min_chars=40, max_chars=400)
        if not sentences:
            continue
        every = [t for t in (stem(w) for w in re.findall(r"[A-Za-z][A-Za-z\-_]+", passage.text))
                 if len(t) >= 5 and t not in STOPWORDS]
        lower = set(stem(w) for w in re.findall(r"\b[a-z][a-z\-_]+", passage.text))  # not only as a Name
        rubric = sorted({t for t in every if t in lower}, key=lambda t: (-every.count(t), t))[:3]
        if len(rubric) < 2:
            continue
        name = passage.title or passage.section or "this idea"
        if passage.source.startswith("roadmap:") and passage.section:
            name = re.split(r"\s*[>›]\s*", passage.section)[-1]
        return {"question": f"In a sentence or two: what is the key idea of {name}?", "rubric": rubric,
                "reference": sentences[0], "passage": passage}
    return None


def _base(verb: str) -> str:
    irregular = {"does": "do", "lets": "let", "allows": "allow", "makes": "make", "means": "mean", "refers to": "refer to"}
    if verb in irregular:
        return irregular[verb]
    return verb[:-1] if verb.endswith("s") else verb


def quiz(args: QuizArgs, ctx: ToolContext) -> ToolOutput:
    from tutor.agent.tools.progress import next_topic

    topic_id = args.topic or next_topic(ctx.memory.mastery_for(ctx.user))
    topic = BY_ID[topic_id]
    from tutor.agent.scope import ExplanationsOnly

    # Questions come from explanations (roadmap, paper notes, the learner's files), not docstrings.
    passages = ExplanationsOnly(ctx.retriever).search(topic.query, top_k=8) if ctx.retriever is not None else \
        search_passages(ctx, topic.query, top_k=8)
    made = make_question(passages, {a for a in topic.aliases if len(a) > 2} | {topic.id.replace("-", " ")})
    if made is None:
        return ToolOutput(ok=False, message=f"no passage on {topic.title} to make a question from",
                          reply=f"I couldn't find a passage on {topic.title} to quiz you from; try another topic.")
    ref = as_ref(1, made["passage"])
    pending = {"topic": topic_id, "question": made["question"], "rubric": made["rubric"],
               "reference": made["reference"], "passage": ref.model_dump()}
    state = ctx.memory.get_state(ctx.user, ctx.session_id)
    state["quiz"] = pending
    ctx.memory.set_state(ctx.user, ctx.session_id, state)
    reply = f"Quiz on {topic.title}: {made['question']}\nAnswer in a sentence or two; I'll grade it."
    return ToolOutput(message=f"quiz question on {topic_id}", reply=reply,
                      result={"topic": topic_id, "question": made["question"], "rubric": made["rubric"]})


#: Cosine similarity (MiniLM) of an answer to its source passage read as 0 and as full marks: measured
#: on hand-written answers, off-topic replies score below 0.3 and good paraphrases 0.6-0.75.
SEM_ZERO, SEM_FULL = 0.3, 0.7


def _meaning_score(answer: str, reference: str, settings: Any) -> float | None:
    """How close the answer's meaning is to the source, 0..1 (None when the encoder is unavailable)."""
    try:
        import numpy as np

        from knowledge.embed import get_encoder

        vecs = np.asarray(get_encoder(settings).encode([answer, reference]), dtype=np.float32)
    except Exception:  # noqa: BLE001 - grading falls back to the rubric alone
        return None
    a, b = vecs[0], vecs[1]
    cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
    return min(1.0, max(0.0, (cos - SEM_ZERO) / (SEM_FULL - SEM_ZERO)))


def _surface(term: str, text: str) -> str:
    """The word of ``text`` a rubric stem came from ('overfitt' -> 'overfitting')."""
    for word in re.findall(r"[A-Za-z][A-Za-z\-_]+", text):
        if stem(word) == term:
            return word.lower()
    return term


def grade(answer: str, pending: dict[str, Any], ctx: ToolContext) -> ToolOutput:
    """Grade the learner's answer: half its rubric terms, half how close its meaning is to the source.

    Terms alone were too strict: a right answer in other words ("gates around a memory cell") scored
    0 against a rubric of "error, recurrent, state".
    """
    rubric: list[str] = pending["rubric"]
    said = set(_terms(answer))
    covered = [t for t in rubric if t in said or any(s.startswith(t[:5]) and len(t) >= 5 for s in said)]
    missed = [t for t in rubric if t not in covered]
    terms = len(covered) / len(rubric) if rubric else 0.0
    source_text = pending["passage"]["text"][:1500]
    meaning = _meaning_score(answer, source_text, ctx.settings)
    score = round(terms if meaning is None else 0.5 * terms + 0.5 * meaning, 2)
    verdict = "Well done" if score >= 0.75 else "Partly right" if score >= 0.4 else "Not quite"
    ref = SourceRef.model_validate(pending["passage"])
    lines = [f"{verdict}: score {score:.2f}."]
    words = lambda stems: ", ".join(_surface(t, source_text) for t in stems)  # noqa: E731
    if covered:
        lines.append(f"Key words you used: {words(covered)}.")
    if missed:
        lines.append(f"Key words from the source you could add: {words(missed)}.")
    if meaning is not None:
        lines.append(f"Closeness of your answer's meaning to the source: {meaning:.2f}.")
    lines.append(f"The source says: \"{pending['reference']}\" [1]")
    feedback = "\n".join(lines)
    mastery = ctx.memory.record_attempt(ctx.user, ctx.session_id, pending["topic"], pending["question"], answer,
                                        score, feedback)
    lines.append(f"Your mastery of {BY_ID[pending['topic']].title} is now {mastery:.2f}.")
    return ToolOutput(message=f"graded: {score:.2f}", reply="\n".join(lines), citations=[ref],
                      result={"topic": pending["topic"], "score": score, "covered": covered, "missed": missed,
                              "terms": round(terms, 2), "meaning": None if meaning is None else round(meaning, 2),
                              "mastery": mastery})


