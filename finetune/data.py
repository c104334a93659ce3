"""`tutor finetune data`: the SFT set, built from the knowledge corpus in the tutor's run-time formats.

No teacher model is reachable offline, so every item is assembled from a corpus passage itself:

- ``grounded``: the tutor's system prompt, numbered passages (the right one among distractors, in
  the exact ``[n] heading`` layout the agent uses), a question about the passage; the answer is the
  passage's own sentences (names, numbers and code untouched), each ending with ``[n]``;
- ``abstain``: the same layout with passages that do not hold the answer; the answer is the
  tutor's abstention sentence;
- ``tool``: a learner message and the agent's tool specs; the answer is one call in the model's
  own ``<tool_call>`` format (message wording written here, unlike any routing eval message);
- ``guide``: the guide-mode prompt; the answer is a hint naming where to look plus one guiding
  question, never the passage's content.

Items are stored as chat messages (model-agnostic JSON lines); the training recipe renders them
with the base model's own chat template. ``check_contamination`` fails the build when any item's
question or answer shares a normalised 8-gram with ``evals/datasets/*`` or ``../shared/external/*``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from tutor.agent import prompts  # the agent's prompt templates: allowed (docs/architecture.md)
from tutor.errors import TutorError
from tutor.llm.toolcalls import render_tool_call

REPO = Path(__file__).resolve().parent.parent
EVAL_DIR = REPO / "evals" / "datasets"
EXTERNAL_DIR = REPO.parent / "shared" / "external"
TOOL_SPECS_FILE = Path(__file__).parent / "tool_specs.json"
NGRAM = 8
ABSTAIN = "My sources don't cover that."

Kind = Literal["grounded", "abstain", "tool", "guide"]


class Item(BaseModel):
    """One SFT conversation: the prompt turns, then the assistant reply to learn."""

    id: str = Field(description="Stable hash of the conversation.")
    kind: Kind
    source: str = Field("", description="Corpus source the item was built from ('' for tool turns).")
    question: str = Field(description="The learner's words (what decontamination checks).")
    messages: list[dict[str, str]] = Field(description="system/user turns, then the assistant reply (last).")
    tools: bool = Field(False, description="Whether the agent's tool specs go with the prompt.")


class Passage(BaseModel):
    text: str
    source: str
    title: str = ""
    section: str = ""


# --- corpus ------------------------------------------------------------------------------------
def corpus_passages() -> list[Passage]:
    """The roadmap and paper notes, chunked by the knowledge package's own parser (as retrieval sees them)."""
    from knowledge.corpus_default import paper_documents, roadmap_documents
    from knowledge.parse import parse_documents

    docs = list(roadmap_documents()) + list(paper_documents()[0])
    out = []
    for node in parse_documents(docs):
        meta = node.metadata
        out.append(Passage(text=node.get_content().strip(), source=meta.get("source", ""),
                           title=meta.get("title", ""), section=meta.get("section", "")))
    return [p for p in out if p.text]


def heading(p: Passage) -> str:
    """'Title › Section (source)': the same label the agent puts above a passage (tutor/agent/context.py)."""
    parts = [x for x in (p.title, p.section) if x]
    return f"{' › '.join(dict.fromkeys(parts)) or p.source} ({p.source})"


def passage_block(n: int, p: Passage, max_chars: int) -> str:
    body = p.text if len(p.text) <= max_chars else p.text[:max_chars].rsplit(" ", 1)[0]
    if body.count("```") % 2:  # a cut inside a fence: close it, as the agent does
        body = body.rstrip() + "\n```"
    return prompts.PASSAGE.substitute(n=n, heading=heading(p), body=body)


# --- sentences of a passage ----------------------------------------------------------------------
_FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL)
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*\"(])")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+")
_IDENT = re.compile(r"`([^`\n]{3,60})`")


def prose_sentences(text: str) -> list[str]:
    """Whole sentences outside code fences and headings, as written (bullets' markers dropped)."""
    prose = _FENCE.sub("\n", text)
    out: list[str] = []
    for para in re.split(r"\n\s*\n", prose):
        lines = [ln for ln in para.splitlines() if ln.strip() and not ln.lstrip().startswith(("#", "|", ">"))]
        for line in lines:
            line = _BULLET.sub("", line).strip()
            for s in _SENT_SPLIT.split(line):
                s = s.strip()
                if 30 <= len(s) <= 320 and s[-1] in ".!?)`" and s.count("`") % 2 == 0:
                    out.append(s)
    return out


def code_blocks(text: str) -> list[str]:
    return [m.group(0).strip() for m in _FENCE.finditer(text) if 1 <= m.group(1).count("\n") <= 12]


#: Section names the paper notes all share: they say nothing about the subject, so the title is used.
_GENERIC = {"why it matters", "roadmap links", "key idea", "key ideas", "summary", "overview", "in practice",
            "results", "method", "details", "notes", "what it is", "how it works", "limitations", "in code"}


def topic_of(p: Passage) -> str:
    """A short human name for what the passage is about (its last heading, cleaned)."""
    def clean(s: str) -> str:
        s = re.sub(r"^[\d.]+\s*", "", s.strip())
        return re.sub(r"[^\w\s\-'(),./+]", "", s).strip(" :-")

    last = clean(p.section.split(">")[-1]) if p.section else ""
    if not last or last.lower() in _GENERIC or len(last) < 4:
        title = clean(p.title.split(":")[0]) if p.title else ""
        return title or last or p.source
    if last.lower() == "key numbers":
        return f"the key numbers of {clean(p.title.split(':')[0])}"
    return last


# --- item builders ------------------------------------------------------------------------------
_ASK = [
    "What do the notes say about {t}?",
    "Can you walk me through {t}?",
    "I'm studying {t}. What are the key points?",
    "Explain {t} to me, please.",
    "give me the gist of {t}",
    "What should I know about {t}?",
]
_ASK_IDENT = [
    "In the part about {t}, which name or setting is used, exactly?",
    "What exact function, layer or value does the material on {t} mention?",
]
_ASK_CODE = [
    "Show me the code for {t}.",
    "How is {t} written in code?",
]
_STUCK = [
    "I'm stuck on {t}, can you just tell me the answer?",
    "help me understand {t} without giving it away",
    "I don't get {t}. What's the trick?",
]


def _id(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _tutor_turns(question: str, blocks: list[str], style: str = "exact") -> list[dict[str, str]]:
    if style == "guide":
        system, user_t = prompts.GUIDE_SYSTEM.substitute(), prompts.GUIDE_USER
    else:
        system, user_t = prompts.TUTOR_SYSTEM.substitute(), prompts.TUTOR_USER
    return [{"role": "system", "content": system},
            {"role": "user", "content": user_t.substitute(passages="\n\n".join(blocks), question=question)}]


def _layout(target: Passage | None, others: list[Passage], rng: random.Random, max_chars: int) -> tuple[list[str], int]:
    """Passage blocks with the target at a random position; returns (blocks, target's 1-based number)."""
    chosen = list(others)
    pos = rng.randrange(len(chosen) + 1) if target is not None else -1
    if target is not None:
        chosen.insert(pos, target)
    return [passage_block(i + 1, p, max_chars) for i, p in enumerate(chosen)], pos + 1


def grounded_items(p: Passage, pool: list[Passage], rng: random.Random, n_passages: int, max_chars: int) -> list[Item]:
    items = []
    # Only sentences that fit inside the shown (possibly cut) passage can be cited from it.
    shown = p.text[:max_chars]
    sentences = [s for s in prose_sentences(shown) if s in shown]
    t = topic_of(p)
    distract = [q for q in rng.sample(pool, min(len(pool), n_passages + 3)) if q.source != p.source][: n_passages - 1]
    if sentences:
        blocks, n = _layout(p, distract, rng, max_chars)
        question = rng.choice(_ASK).format(t=t)
        answer = " ".join(f"{s} [{n}]" for s in sentences[:3])
        items.append(_item("grounded", p.source, question, _tutor_turns(question, blocks) + [_reply(answer)]))
    idents = [(m.group(1), s) for s in sentences for m in _IDENT.finditer(s)]
    if idents:
        ident, sent = rng.choice(idents)
        blocks, n = _layout(p, distract, rng, max_chars)
        question = rng.choice(_ASK_IDENT).format(t=t)
        items.append(_item("grounded", p.source, question, _tutor_turns(question, blocks) + [_reply(f"{sent} [{n}]")]))
    codes = [c for c in code_blocks(shown) if c in shown]
    if codes:
        blocks, n = _layout(p, distract, rng, max_chars)
        question = rng.choice(_ASK_CODE).format(t=t)
        answer = f"The passage gives this code for {t} [{n}]:\n{codes[0]}"
        items.append(_item("grounded", p.source, question, _tutor_turns(question, blocks) + [_reply(answer)]))
    return items


def abstain_item(p: Passage, pool: list[Passage], rng: random.Random, n_passages: int, max_chars: int) -> Item:
    """A question about ``p`` asked over passages from other sources: nothing there answers it."""
    others = [q for q in rng.sample(pool, min(len(pool), n_passages + 6)) if q.source != p.source][:n_passages]
    blocks, _ = _layout(None, others, rng, max_chars)
    question = rng.choice(_ASK).format(t=topic_of(p))
    return _item("abstain", p.source, question, _tutor_turns(question, blocks) + [_reply(ABSTAIN)])


def guide_item(p: Passage, rng: random.Random, max_chars: int) -> Item | None:
    sentences = prose_sentences(p.text[:max_chars])
    if not sentences:
        return None
    t = topic_of(p)
    question = rng.choice(_STUCK).format(t=t)
    blocks = [passage_block(1, p, max_chars)]
    # The hint points at where the answer lives and the question asks for the learner's next step;
    # no sentence of the passage is repeated, so the solution is never handed over.
    reply = (f"Hint: think about what {t} is for and what problem it solves. "
             f"What do you expect would change if you left {t} out, and why?")
    return _item("guide", p.source, question, _tutor_turns(question, blocks, "guide") + [_reply(reply)])


# Tool turns: wording of our own (the decontamination check holds it apart from routing*.jsonl).
_TOOL_TURNS: list[tuple[str, str, dict[str, Any]]] = [
    ("Look up in your sources how {t} works.", "search_knowledge", {"query": "how {t} works"}),
    ("Find me the paper notes on {t}.", "search_knowledge", {"query": "{t}", "feed": "papers"}),
    ("Search the roadmap for {t}.", "search_knowledge", {"query": "{t}", "feed": "roadmap"}),
    ("Please kick off the cnn recipe with {e} epochs.", "run_experiment", {"kind": "cnn", "params": {"epochs": "{e}"}}),
    ("Start the rnn demo for me, {e} epochs please.", "run_experiment", {"kind": "rnn", "params": {"epochs": "{e}"}}),
    ("Launch the optimizers recipe.", "run_experiment", {"kind": "optimizers"}),
    ("Go through run {r} with me and say why it ended up like that.", "explain_run", {"run_id": "{r}"}),
    ("Put run {r} side by side with run {s}.", "compare_runs", {"a": "{r}", "b": "{s}"}),
    ("Give me a test question on {q}.", "quiz", {"topic": "{q}"}),
    ("Check me on {q} with one question.", "quiz", {"topic": "{q}"}),
    ("Which topics have I got down so far, and what comes next?", "progress", {}),
    ("Show my mastery table.", "progress", {}),
]
_QUIZ_TOPICS = ["fundamentals", "backpropagation", "cnn", "rnn", "nlp", "llm", "rag", "fine-tuning", "computer-vision"]


def _fill(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, env) for k, v in value.items()}
    if isinstance(value, str):
        out = value.format(**env)
        return int(out) if value == "{e}" else out
    return value


def tool_items(passages: list[Passage], rng: random.Random, n: int) -> list[Item]:
    system = prompts.CHAT_SYSTEM.substitute()
    items = []
    for i in range(n):
        msg_t, tool, args_t = _TOOL_TURNS[i % len(_TOOL_TURNS)]
        env = {"t": topic_of(rng.choice(passages)).lower(), "e": str(rng.choice([2, 3, 4, 5, 8])),
               "r": f"{rng.randrange(16**6):06x}", "s": f"{rng.randrange(16**6):06x}", "q": rng.choice(_QUIZ_TOPICS)}
        message = msg_t.format(**env)
        call = render_tool_call(tool, _fill(args_t, env))
        messages = [{"role": "system", "content": system}, {"role": "user", "content": message}, _reply(call)]
        items.append(Item(id=_id(messages), kind="tool", question=message, messages=messages, tools=True))
    return items


def _reply(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def _item(kind: str, source: str, question: str, messages: list[dict[str, str]]) -> Item:
    return Item(id=_id(messages), kind=kind, source=source, question=question, messages=messages)  # type: ignore[arg-type]


# --- decontamination -------------------------------------------------------------------------------
def normalise(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def ngrams(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    words = normalise(text)
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _file_strings(path: Path) -> Iterator[str]:
    """Every text field of an eval or external file (JSON, JSON lines, CSV, TSV); others read whole."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix in {".csv", ".tsv"}:
        for row in csv.reader(text.splitlines(), delimiter="\t" if path.suffix == ".tsv" else ","):
            yield from row
        return
    if path.suffix in {".json", ".jsonl"}:
        try:
            yield from _strings(json.loads(text))
            return
        except ValueError:
            for line in text.splitlines():
                if line.strip():
                    try:
                        yield from _strings(json.loads(line))
                    except ValueError:
                        yield line
            return
    yield text


def reference_ngrams(dirs: Iterable[Path]) -> tuple[set[tuple[str, ...]], list[str]]:
    """The 8-grams of every file under ``dirs`` (the eval sets, the external sets) and the files read."""
    grams: set[tuple[str, ...]] = set()
    files = []
    for d in dirs:
        if not d.is_dir():
            continue
        for path in sorted(d.iterdir()):
            if path.is_file() and path.suffix in {".json", ".jsonl", ".csv", ".tsv", ".txt"}:
                files.append(str(path))
                for s in _file_strings(path):
                    grams |= ngrams(s)
    return grams, files


def item_text(item: Item) -> str:
    """What the check compares: the learner's words and the reply to learn (passages are the corpus's)."""
    return item.question + "\n" + item.messages[-1]["content"]


def contaminated(item: Item, ref: set[tuple[str, ...]]) -> bool:
    return not ngrams(item_text(item)).isdisjoint(ref)


def check_contamination(items: Iterable[Item], ref: set[tuple[str, ...]]) -> None:
    """Fail (TutorError) when any item shares a normalised 8-gram with the reference sets."""
    bad = [it.id for it in items if contaminated(it, ref)]
    if bad:
        raise TutorError(f"{len(bad)} fine-tuning item(s) overlap the eval or external sets (first: {bad[0]}); "
                         "the build is refused.")


# --- the build ---------------------------------------------------------------------------------------
class BuildConfig(BaseModel):
    seed: int = Field(13, description="Random seed of passage choice and layout.")
    n_passages: int = Field(3, ge=1, le=8, description="Passages shown per grounded/abstain item.")
    max_passage_chars: int = Field(300, ge=100, le=8000, description="Each passage is cut to this many characters.")
    abstain_every: int = Field(5, ge=2, description="One abstention item per this many passages.")
    guide_every: int = Field(4, ge=2, description="One guide-mode item per this many passages.")
    tool_items: int = Field(96, ge=0, le=5000, description="Tool-call items.")
    val_fraction: float = Field(0.1, gt=0, lt=0.5, description="Share of items held out for validation.")


def build_items(passages: list[Passage], cfg: BuildConfig) -> list[Item]:
    rng = random.Random(cfg.seed)
    items: list[Item] = []
    for i, p in enumerate(passages):
        items += grounded_items(p, passages, rng, cfg.n_passages, cfg.max_passage_chars)
        if i % cfg.abstain_every == 0:
            items.append(abstain_item(p, passages, rng, cfg.n_passages, cfg.max_passage_chars))
        if i % cfg.guide_every == 0 and (g := guide_item(p, rng, cfg.max_passage_chars)):
            items.append(g)
    items += tool_items(passages, rng, cfg.tool_items)
    return dedupe(items)


def dedupe(items: list[Item]) -> list[Item]:
    """Drop exact repeats (same conversation) and repeats of one question over the same source."""
    seen: set[str] = set()
    out = []
    for it in items:
        keys = {it.id, _id(it.kind, it.source, it.question, it.messages[-1]["content"])}
        if keys & seen:
            continue
        seen |= keys
        out.append(it)
    return out


def split(items: list[Item], val_fraction: float, seed: int) -> tuple[list[Item], list[Item]]:
    """Validation holds whole sources out (no passage seen in training is validated on)."""
    sources = sorted({it.source for it in items if it.source})
    rng = random.Random(seed)
    rng.shuffle(sources)
    held = set(sources[: max(1, round(len(sources) * val_fraction))])
    tool = [it for it in items if not it.source]
    val_tool = set(it.id for it in tool[: max(1, round(len(tool) * val_fraction))]) if tool else set()
    train = [it for it in items if it.source not in held and it.id not in val_tool]
    val = [it for it in items if it.source in held or it.id in val_tool]
    return train, val


def build(out_dir: Path, cfg: BuildConfig | None = None, *, passages: list[Passage] | None = None,
          reference_dirs: Iterable[Path] = (EVAL_DIR, EXTERNAL_DIR)) -> dict[str, Any]:
    """Write train.jsonl, val.jsonl and DATASET_CARD.md under ``out_dir``; returns the card's numbers."""
    cfg = cfg or BuildConfig()
    passages = passages if passages is not None else corpus_passages()
    if not passages:
        raise TutorError("the knowledge corpus gave no passages to build fine-tuning data from.")
    ref, ref_files = reference_ngrams(reference_dirs)
    candidates = build_items(passages, cfg)
    items = [it for it in candidates if not contaminated(it, ref)]
    dropped = len(candidates) - len(items)
    check_contamination(items, ref)  # the rule, checked again on exactly what is written
    train, val = split(items, cfg.val_fraction, cfg.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("val", val)):
        with (out_dir / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for it in part:
                fh.write(it.model_dump_json() + "\n")
    stats = {
        "passages": len(passages),
        "sources": len({p.source for p in passages}),
        "candidates": len(candidates),
        "dropped_contaminated": dropped,
        "train": len(train),
        "val": len(val),
        "train_kinds": dict(Counter(it.kind for it in train)),
        "val_kinds": dict(Counter(it.kind for it in val)),
        "reference_files": ref_files,
        "config": cfg.model_dump(),
    }
    (out_dir / "DATASET_CARD.md").write_text(_card(stats), encoding="utf-8")
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=1), encoding="utf-8")
    return stats


def _card(s: dict[str, Any]) -> str:
    refs = "\n".join(f"- `{f}`" for f in s["reference_files"]) or "- (none found)"
    return f"""# Tutor SFT set (built by `tutor finetune data`)

Sources: the knowledge corpus (`knowledge/corpus/`: roadmap + paper notes), {s['passages']} passages from
{s['sources']} documents, chunked by `knowledge.parse` exactly as retrieval chunks them. No teacher model:
every reply is the passage's own sentences (grounded, ending with `[n]`), the tutor's abstention sentence,
one `<tool_call>` in the agent's format, or a guide-mode hint + guiding question.

| split | items | by kind |
|---|---|---|
| train | {s['train']} | {s['train_kinds']} |
| val | {s['val']} | {s['val_kinds']} |

Validation holds out whole source documents (and a share of the tool turns).

Decontamination rule: an item whose learner message or reply shares any normalised 8-gram (lower-case,
alphanumeric words) with any text field of the files below is dropped ({s['dropped_contaminated']} of
{s['candidates']} candidates); the written set is checked again and the build fails on any overlap.

{refs}

Build settings: `{json.dumps(s['config'])}`
"""


def load_items(path: Path) -> list[Item]:
    """Read a JSON-lines file of items; a corrupt line is one TutorError naming file and line."""
    if not path.is_file():
        raise TutorError(f"fine-tuning data file {path} does not exist; build it with `tutor finetune data`.")
    items = []
    for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(Item.model_validate_json(line))
        except ValueError as exc:
            first = str(exc).splitlines()[0]
            raise TutorError(f"{path}:{i} is not a fine-tuning item ({first}).") from None
    if not items:
        raise TutorError(f"fine-tuning data file {path} holds no items.")
    return items
