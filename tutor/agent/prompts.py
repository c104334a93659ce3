"""Every prompt the agent sends, as named templates (``string.Template``: ``$name`` fields).

``string.Template`` rather than ``str.format``: passages and code are full of ``{}`` and a
stray brace must never break a prompt. Each template says in its docstring-comment what it
is for; logic that fills them lives in ``context.py`` (passages) and ``ask.py``.

Two prompt styles exist so the faithfulness eval can measure what the wording buys us:

- ``exact`` (default): the tuned tutor prompt. Short imperative rules, because a 0.5B model
  follows three short rules far better than one long paragraph; code kept in fences so the
  model sees identifiers as code; the question repeated *after* the passages, right before
  the answer, where small models attend most.
- ``plain``: a typical first-try RAG prompt (one paragraph of instructions, passages as
  flat text). Kept only as the eval's baseline.
"""

from __future__ import annotations

from string import Template

# --- the tutor (exact style) ----------------------------------------------------------

#: System turn of the tutor. No example identifiers from the eval set appear here on purpose.
#: Measured on Qwen2.5-Coder-0.5B: a numbered rule list, or a reminder after the question
#: ("cite them like [1]"), made it answer with nothing but "[1] [2] [3]"; short plain
#: sentences kept exact names (docs/faithfulness.md).
TUTOR_SYSTEM = Template(
    """You are DL Tutor, a friendly and exact deep-learning tutor.
Answer the question using only the numbered passages.
Copy names, numbers, arguments and code exactly as the passages write them, in backticks.
After each sentence, put the number of the passage it comes from in brackets, like [1].
If the passages do not answer the question, say "My sources don't cover that." """
)

#: One passage inside the user turn. ``$body`` keeps code blocks in their ``` fences.
PASSAGE = Template("""[$n] $heading
$body""")

#: The user turn: passages first, the question last (right before the answer, where small
#: models attend most), nothing after it.
TUTOR_USER = Template(
    """$passages

Question: $question"""
)

# --- the baseline (plain style), kept only for the eval ---------------------------------

#: A typical first-try RAG system prompt: the "before" row of docs/faithfulness.md.
PLAIN_SYSTEM = Template(
    """You are a helpful deep learning tutor. Use the context below to answer the user's question and cite the sources with numbers like [1]. If the context does not contain the answer, say you don't know."""
)

#: One passage as flat text (code fences removed, whitespace collapsed).
PLAIN_PASSAGE = Template("""[$n] $body""")

#: The baseline user turn: question first, context after it.
PLAIN_USER = Template(
    """Question: $question

Context:
$passages"""
)

# --- guide mode (Socratic) ------------------------------------------------------------

#: System turn in guide mode: lead the learner to the answer, never hand it over.
GUIDE_SYSTEM = Template(
    """You are DL Tutor in guide mode: a Socratic deep-learning tutor.
Never give the answer or the solution, even if asked to.
Ask one short guiding question that helps the student take the next step themselves."""
)

#: The user turn in guide mode: passages for the tutor's own grounding, then the student's words.
GUIDE_USER = Template(
    """Notes for the tutor (do not quote them):
$passages

Student: $question
Write one guiding question for the student."""
)

#: Guide mode, the learner's attempt at the exercise the tutor asked about: the user turn.
#: ``$question`` is GUIDE_ATTEMPT_QUESTION filled in (the exercise, the tutor's question, the attempt).
GUIDE_ATTEMPT_USER = Template(
    """Notes for the tutor (do not quote them):
$passages

$question
Ask the student one guiding question about their answer: about the part of it that is wrong or missing, or, if it is right, about why it is right."""
)

#: What the model is told about the exercise in progress (also the retrieval query for the attempt).
GUIDE_ATTEMPT_QUESTION = Template("""Exercise: $exercise
Tutor's question: $asked
Student's answer: $attempt""")

#: Guide mode, after a try, when the model only asked its first question again: revoice the try
#: (the learner sees their own claim) and ask them to check their own reasoning.
GUIDE_REVOICE = Template(
    """You answered: "$attempt". Which step of that are you least sure of, and how could you check it?"""
)

#: Guide mode, an exercise the sources do not cover: honest about it, and still a guiding question.
GUIDE_UNCOVERED = Template(
    """My sources don't cover this one directly, so let's reason it out together: what do you already know that applies here, and what would be your first step?"""
)

#: Used when the model's guide reply held no question: a question that always helps.
GUIDE_FALLBACK_QUESTION = Template(
    """Let's work it out together rather than me just telling you. What do you already know that applies here, and what would be your first step?"""
)

#: Guide mode, before an experiment runs: the learner predicts first ("predict, then run").
PREDICT_FIRST = Template(
    """Before I run the $kind experiment ($params), make a prediction: what test accuracy do you expect, and will the model overfit? Reply with your guess and I'll start the run."""
)

#: After the run, the prediction set beside what happened.
PREDICTION_CHECK = Template(
    """You predicted: "$prediction". The run's $metric was $value$overfit_note."""
)

# --- small talk and questions about the conversation ------------------------------------

#: System turn when no tool and no retrieval is needed (greetings, "what did I say earlier").
CHAT_SYSTEM = Template(
    """You are DL Tutor, a friendly deep-learning tutor. Reply in one or two short sentences.
Use the conversation so far to answer questions about it."""
)

# --- answers that need no model ----------------------------------------------------------

#: Said when retrieval found nothing relevant: honest, and it says what *is* covered.
NO_CONTEXT_ANSWER = Template(
    """My sources don't cover that, so I won't guess. I can answer from the deep-learning roadmap, the paper notes and the API docs of $feeds; try asking about a topic from those, or add your own notes with `tutor ingest`."""
)

#: The name check found a specific name (a model version, an API object) nothing in the sources mentions.
NAMES_NOT_COVERED = Template(
    """My sources don't cover $names: nothing in them mentions it, so I won't guess from what is nearby. I can answer from the deep-learning roadmap, the paper notes and the API docs of $feeds; ask about a topic from those, or add your own notes about it with `tutor ingest`."""
)

#: Heading of the source list printed after an answer that cited nothing inline.
SOURCES_HEADING = "Sources"

# --- tool calling -------------------------------------------------------------------------

#: Sent once after a reply whose tool call could not be used; the agent then answers without a tool.
TOOL_RETRY = Template(
    """Your last tool call could not be used:
$problems
Call one of these tools again with valid JSON, exactly like
<tool_call>{"name": "TOOL_NAME", "arguments": {"ARG": "VALUE"}}</tool_call>
Available tools: $tools. If no tool fits, answer in plain text instead."""
)


def render_tool_retry(problems: list[str], tool_names: set[str] | list[str] | None = None) -> str:
    """The retry prompt for the problems ``tutor.llm.toolcalls.parse_tool_calls`` reported."""
    lines = "\n".join(f"- {p}" for p in problems) or "- the reply held no readable tool call"
    tools = ", ".join(sorted(tool_names or ())) or "none"
    return TOOL_RETRY.substitute(problems=lines, tools=tools)


STYLES = ("exact", "plain", "guide")
