"""The name check of the relevance gate: a question about a named thing needs passages that name it.

The similarity gate (``ask.best_similarity``) compares the question's embedding with the nearest
passage's. Measured on the answers set (docs/answers.md), questions about newer or absent versions
of covered things pass it: "When is Llama 5 going to be released?" sits at 0.48 from the LLaMA
paper note, "What training data did OpenAI use for GPT-4o?" at 0.47, and the model then answered
from the nearest passage. A name is what such questions hinge on, so:

1. the names in the question are found by their shape (below; there is no NER model offline,
   and a typed name's shape is what tells "GPT-4o" from "the gradient");
2. a name that none of the retrieved passages mentions is looked for deeper in the question's
   results, in the question's view and then in all the learner may see (uploads filter and feed
   kept); a passage there whose title names it joins the prompt (the retrieval had missed it: "What does
   patience mean in ReduceLROnPlateau?" is a conceptual question by its words, and its view leaves
   out the API docs that hold the scheduler);
3. if nothing the learner may see names it, the tutor says its sources don't cover that name
   instead of answering from a neighbour.

Name shapes: a token with a digit and a capital (``GPT-4o``, ``Mamba-3``, ``H100``, ``ResNet-50``),
two or more capitals (``NeRF``, ``OpenAI``, ``AWS``, ``ReduceLROnPlateau``), or a capitalised word
followed by a version number (``Llama 5``, ``Claude 3``). Plain capitalised words ("Transformer",
"Mom") are not names here: they are too often ordinary words, and off-topic ones ("Budapest") are
the similarity gate's. Lower-case names ("gpt-4o") are not recognised either; docs/answers.md says so.
Hand-written: a few regular expressions; the NER packages need models that cannot be downloaded here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

# A token: letters, digits and inner hyphens/dots/underscores ("GPT-4o", "torch.nn.LayerNorm", "Conv2D").
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]|[A-Za-z0-9]")
_VERSION = re.compile(r"\d+(?:\.\d+)?[A-Za-z]{0,2}")
#: How many passages the name-only search looks at before deciding nothing names it.
NAME_SEARCH_K = 10


def _is_name(token: str) -> bool:
    if token[0].isdigit():
        return False  # numbers, sizes and rates ("405B", "1e-3", "3x3") are not names
    capitals = sum(c.isupper() for c in token)
    has_digit = any(c.isdigit() for c in token)
    return capitals >= 2 or (capitals >= 1 and has_digit)


def _trim(token: str) -> str:
    """'PPO-based' -> 'PPO', 'R-CNN-style' -> 'R-CNN', "GPT-4's" -> 'GPT-4', 'torch.nn.LayerNorm' -> 'LayerNorm'."""
    token = re.sub(r"'s$", "", token)
    parts = token.split("-")
    while len(parts) > 1 and parts[-1].isalpha() and parts[-1].islower():
        parts.pop()  # a lower-case word joined on is a description, not part of the name
    token = "-".join(parts)
    return token.rsplit(".", 1)[-1] if "." in token and not token.replace(".", "").isdigit() else token


def names(question: str) -> list[str]:
    """The names the question asks about, in order, each once."""
    tokens = [(m.group(0), m.start()) for m in _TOKEN.finditer(question)]
    found: list[str] = []
    for i, (raw, start) in enumerate(tokens):
        token = _trim(raw)
        name = token if _is_name(token) else None
        nxt, gap = ("", "") if i + 1 == len(tokens) else (tokens[i + 1][0], question[start + len(raw):tokens[i + 1][1]])
        # "Llama 5", "Claude 3": a capitalised word, a space, a version number ("SGD, 32" and
        # "Embedding(10000" are arguments, not versions).
        if token[:1].isupper() and token.isalpha() and gap == " " and _VERSION.fullmatch(nxt):
            name = f"{token} {nxt}"
        if name and name not in found:
            found.append(name)
    return found


def is_specific(name: str) -> bool:
    """A name whose absence is enough to stop an answer: a version or a mixed-case name.

    All-capital abbreviations ("UAT", "AWS") are not: learners coin them ("UAT" for the universal
    approximation theorem), so a missing one only makes the check search for it.
    """
    letters = name.replace(" ", "")
    return any(c.isdigit() for c in letters) or (any(c.islower() for c in letters) and sum(c.isupper() for c in letters) >= 2)


def _flat(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def mentions(name: str, text: str) -> bool:
    """Whether ``text`` names ``name``: case, hyphens and spacing ignored ("GPT-4o" ~ "gpt 4o", "ResNet50")."""
    key = _flat(name)
    if not key:
        return False
    flat = f" {_flat(text)} "
    plural = key[:-1] if key.endswith("s") and len(key) > 3 else None  # "GANs" is named by "GAN"
    if f" {key} " in flat or (plural and f" {plural} " in flat):
        return True
    # Written joined or apart ("ResNet50" / "ResNet-50"): compare with one to three adjacent words
    # run together, never across the whole text ("learner features" must not name "NeRF").
    squashed, words = key.replace(" ", ""), flat.split()
    return any("".join(words[i:i + n]) == squashed for n in (1, 2, 3) for i in range(len(words) - n + 1))


class NameCheck(BaseModel):
    """What the name check found for one question."""

    missing: list[str] = Field(default_factory=list, description="Specific names nothing the learner may see mentions.")
    added: list[Any] = Field(default_factory=list, description="Passages found by searching a name the retrieval missed.")


def check_names(question: str, passages: Sequence[Any], searches: Sequence[Callable[[str, int], list[Any]]],
                known: Sequence[str] = ()) -> NameCheck:
    """Check that each name in ``question`` is in ``passages``; look for the ones that are not.

    ``searches`` are ``search(query, k)`` functions, the retrieval the passages came from first, then
    the learner's whole knowledge base (a conceptual question's view leaves out the API docs, where
    "ReduceLROnPlateau" lives). A missing specific name is looked for deeper in the question's own
    results; the first passage there whose title names it joins the prompt. Else the name is searched on its
    own in the last view, only to learn whether anything names it (such a passage is on the name,
    not on the question, so it is not added). It is missing when nothing names it, it is specific
    (``is_specific``) and ``known`` (what the tutor knows beyond its sources, such as the lab's
    recipe cards: "CO2") does not name it either.
    """
    result = NameCheck()
    seen = [_label(p) for p in passages]
    deeper: list[Any] | None = None
    for name in names(question):
        if any(mentions(name, text) for text in seen):
            continue
        if deeper is None:
            deeper = [hit for search in searches for hit in search(question, NAME_SEARCH_K * 3)]
        # Only a passage *about* the name (its title names it: an API docstring, a paper note) is
        # added; one that merely mentions it was as likely to derail the answer, measured on the
        # answers run of 3 Dec evening (a "NaN" mention drew clip_grad_norm_'s docstring, and the
        # model, right before, then wrote no answer).
        hit = next((h for h in deeper if is_specific(name) and mentions(name, h.title)), None)
        if hit is not None:
            result.added.append(hit)
            seen.append(_label(hit))
        elif is_specific(name) and not any(mentions(name, text) for text in known) and \
                not any(mentions(name, _label(h)) for h in searches[-1](name, NAME_SEARCH_K)):
            result.missing.append(name)
    return result


def _label(p: Any) -> str:
    # The model sees each passage under its title and section, so a name there counts.
    return f"{p.title} {p.section} {p.text}"


def lab_texts() -> list[str]:
    """What the tutor knows beyond its sources: its lab's recipe cards ("CO2" is a series it trains on)."""
    from tutor.lab.catalog import cards

    texts = []
    for card in cards().values():
        texts.append(f"{card.name} {card.summary}")
        texts.extend(field.description or "" for field in card.Params.model_fields.values())
    return texts
