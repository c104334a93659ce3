"""Fit retrieved passages into the model's context: dedupe, count tokens, truncate, format.

The budget is ``settings.context_window − settings.max_new_tokens − (system prompt + the user
turn without passages) − a small margin for the chat template's own tokens``. Passages go in
most relevant first; when the next one does not fit whole, it is cut at a sentence (or code
line) boundary if enough room is left to make that worthwhile, else it is dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge.citation import Citation
from tutor.agent import prompts

TokenCounter = Callable[[str], int]

#: Tokens the chat template adds around each message (role tags, newlines) plus the
#: assistant header: ChatML uses ~5 per message; 32 covers any template we ship.
TEMPLATE_MARGIN = 32
#: A cut passage shorter than this is noise rather than context: drop it instead.
MIN_TRUNCATED_TOKENS = 48
#: Word-shingle Jaccard similarity above which two passages count as the same text.
NEAR_DUPLICATE = 0.8

_FENCE_RE = re.compile(r"^```[^\n]*\n?|^```\s*$", re.MULTILINE)


class FittedContext(BaseModel):
    """The passages that made it into the prompt, already numbered and formatted."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    passages: list[Citation] = Field(description="Passages given to the model; passages[i] is number i+1.")
    blocks: list[str] = Field(description="The formatted text of each passage, as placed in the prompt.")
    tokens: int = Field(description="Tokens the passage blocks use.")
    budget: int = Field(description="Tokens that were available for passages.")
    truncated: bool = Field(False, description="Whether the last passage was cut to fit.")
    dropped: int = Field(0, description="Retrieved passages left out (duplicates or no room).")
    exact_tokens: bool = Field(description="True when counted with the model's tokenizer, False when estimated.")


# --- token counting ------------------------------------------------------------------------
def estimate_tokens(text: str) -> int:
    """Conservative token estimate: one token per 3 UTF-8 bytes.

    BPE tokenizers average ~4 bytes per token on English prose and ~3 on code; non-ASCII text
    takes more bytes per character, which this also charges for. Over-counting only leaves a
    little context unused, under-counting would overflow the window, so we round up.
    """
    return math.ceil(len(text.encode("utf-8", "replace")) / 3)


def token_counter(llm: Any | None) -> tuple[TokenCounter, bool]:
    """The LLM's own tokenizer as a counter when it exposes one, else the estimate.

    Duck-typed on purpose: the agent must not depend on which backend class it was handed.
    Tried in order: ``llm.count_tokens(text)``, ``llm.tokenize(text)``, llama.cpp's
    ``llm._model.tokenize(bytes)`` (llama-index's LlamaCPP keeps it there), a HF ``llm.tokenizer``.
    """
    if llm is None:
        return estimate_tokens, False
    candidates: list[TokenCounter] = []
    fn = getattr(llm, "count_tokens", None)
    if callable(fn):
        candidates.append(lambda t, fn=fn: int(fn(t)))
    fn = getattr(llm, "tokenize", None)
    if callable(fn):
        candidates.append(lambda t, fn=fn: len(fn(t)))
    model = getattr(llm, "_model", None) or getattr(llm, "model_obj", None)
    fn = getattr(model, "tokenize", None)
    if callable(fn):
        candidates.append(lambda t, fn=fn: len(fn(t.encode("utf-8", "replace"), add_bos=False, special=False)))
    tok = getattr(llm, "tokenizer", None) or getattr(llm, "_tokenizer", None)
    fn = getattr(tok, "encode", None)
    if callable(fn):
        candidates.append(lambda t, fn=fn: len(fn(t, add_special_tokens=False)))
    for counter in candidates:
        try:
            if counter("hello world") > 0:
                return counter, True
        except Exception:  # a backend without a local tokenizer (openai) — try the next one
            continue
    return estimate_tokens, False


# --- dedupe ---------------------------------------------------------------------------------
def _shingles(text: str, k: int = 3) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    if len(words) < k:
        return {tuple(words)}
    return {tuple(words[i : i + k]) for i in range(len(words) - k + 1)}


def dedupe(passages: Sequence[Citation], threshold: float = NEAR_DUPLICATE) -> list[Citation]:
    """Drop passages whose text nearly repeats a higher-ranked one (same chunk in two feeds,
    a re-ingested file). Word-3-shingle Jaccard; quadratic, fine for top_k ≤ 100."""
    kept: list[Citation] = []
    seen: list[set] = []
    for p in passages:
        sh = _shingles(p.text)
        if any(len(sh & s) / max(1, len(sh | s)) >= threshold for s in seen):
            continue
        kept.append(p)
        seen.append(sh)
    return kept


# --- formatting -----------------------------------------------------------------------------
def heading(p: Citation) -> str:
    """'Title › Section (source)' — what the model and the reader see for one passage."""
    parts = [x for x in (p.title, p.section) if x]
    label = " › ".join(dict.fromkeys(parts)) or p.source
    return f"{label} ({p.source})"


def _close_fences(body: str) -> str:
    # A chunk boundary can fall inside a code block; an unclosed fence would swallow the
    # rest of the prompt (the question included) into "code" for the model.
    if body.count("```") % 2:
        body = body.rstrip() + "\n```"
    return body


def format_passage(n: int, p: Citation, style: Literal["exact", "plain"] = "exact", body: str | None = None) -> str:
    text = (body if body is not None else p.text).strip()
    if style == "plain":
        flat = " ".join(_FENCE_RE.sub(" ", text).split())
        return prompts.PLAIN_PASSAGE.substitute(n=n, body=flat)
    return prompts.PASSAGE.substitute(n=n, heading=heading(p), body=_close_fences(text))


def _cut_points(text: str) -> list[int]:
    """Offsets just after a sentence end or a line end: places where a cut reads cleanly."""
    points = {m.end() for m in re.finditer(r"[.!?](?=\s)|\n", text)}
    return sorted(points)


def truncate_to(n: int, p: Citation, style: str, budget: int, count: TokenCounter) -> str | None:
    """The longest sentence-bounded prefix of passage ``n``'s text whose block fits ``budget`` tokens."""
    text = p.text.strip()
    points = _cut_points(text)
    lo, hi, best = 0, len(points) - 1, None
    while lo <= hi:  # binary search: block size grows with the cut offset
        mid = (lo + hi) // 2
        body = text[: points[mid]].rstrip() + " …"
        if count(format_passage(n, p, style, body=body)) <= budget:
            best, lo = body, mid + 1
        else:
            hi = mid - 1
    return best


def fit_passages(
    passages: Sequence[Citation],
    *,
    budget: int,
    count: TokenCounter,
    exact_tokens: bool,
    style: Literal["exact", "plain"] = "exact",
    most_relevant: Literal["first", "last"] = "first",
) -> FittedContext:
    """Choose passages, most relevant first, until ``budget`` tokens are used; then number and
    format them in prompt order (``most_relevant="last"`` puts the best one next to the question)."""
    unique = dedupe(passages)
    chosen: list[tuple[Citation, str | None]] = []
    used = 0
    truncated = False
    for p in unique:
        n = len(chosen) + 1
        cost = count(format_passage(n, p, style)) + 2  # + the blank line between blocks
        if used + cost <= budget:
            chosen.append((p, None))
            used += cost
            continue
        room = budget - used - 2
        if room >= MIN_TRUNCATED_TOKENS:
            body = truncate_to(n, p, style, room, count)
            if body is not None:
                chosen.append((p, body))
                used += count(format_passage(n, p, style, body=body)) + 2
                truncated = True
        break
    if most_relevant == "last":
        chosen.reverse()
    blocks = [format_passage(i + 1, p, style, body=body) for i, (p, body) in enumerate(chosen)]
    return FittedContext(
        passages=[p for p, _ in chosen],
        blocks=blocks,
        tokens=used,
        budget=budget,
        truncated=truncated,
        dropped=len(passages) - len(chosen),
        exact_tokens=exact_tokens,
    )


def passage_budget(*, context_window: int, max_new_tokens: int, fixed_prompt_tokens: int) -> int:
    """Tokens left for passages once the answer, the fixed prompt and the template are paid for."""
    return max(0, context_window - max_new_tokens - fixed_prompt_tokens - TEMPLATE_MARGIN)
