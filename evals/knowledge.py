"""The knowledge suite: multiple-choice accuracy closed-book and with retrieval, same model, same run.

    tutor eval knowledge --dataset ../shared/external/mmlu-redux_machine_learning.csv
    tutor eval knowledge --dataset FILE.csv --limit 20 --conditions closed-book

Every question is asked twice with the same model: once closed-book, once with the top
``--top-k`` passages the tutor's hybrid retriever finds for the question placed before it.
``retrieval_gain`` is the difference, so the knowledge base's contribution is one number.

How the model's choice is read (``--scoring``):

- ``cloze`` (default): the question alone is the prompt and each choice's text is scored as the
  start of the reply; the choice with the highest mean log-probability per token wins. Measured
  on the default 0.5B model, asked for a letter it answers "A" to most questions (even "capital
  of France? A. Berlin B. Paris"), so letter answers measure its letter bias, not its knowledge.
- ``letter``: the lettered choices are in the prompt and the likeliest of the letters wins (the
  usual MMLU protocol; it never fails to parse, but keeps the letter bias).
- ``generate``: greedy text, its first standalone letter A-H; a reply with none counts as wrong
  (``unparsed``). Works with any backend, including servers.
"""

from __future__ import annotations

import re
import time
from typing import Any

from evals.common import EvalRun, apply_model_options, parser, rate
from evals.external import MCQuestion, read_mmlu, resolve

LETTERS = "ABCDEFGH"
CONDITIONS = ("closed-book", "retrieval")
SYSTEM = ("You answer multiple-choice questions about machine learning. Reply with the letter of the "
          "right choice only.")
_LETTER = re.compile(r"\b([A-H])\b")


SCORINGS = ("cloze", "letter", "generate")
CLOZE_SYSTEM = "You answer questions about machine learning correctly and briefly."


def prompt(q: MCQuestion, passages: list[str] | None = None, *, lettered: bool = True) -> str:
    context = ""
    if passages:
        context = "Passages that may help:\n" + "\n\n".join(f"[{i}] {p[:700]}" for i, p in enumerate(passages, 1)) + "\n\n"
    if not lettered:
        return f"{context}Question: {q.question}"
    choices = "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(q.choices))
    return f"{context}Question: {q.question}\n{choices}\nAnswer with one letter."


def parse_choice(reply: str, n_choices: int) -> int | None:
    """The first standalone capital letter among the choices, e.g. 'B' in 'B. 24' or 'The answer is B'."""
    for m in _LETTER.finditer(reply or ""):
        i = LETTERS.index(m.group(1))
        if i < n_choices:
            return i
    return None


def ask_choice(llm: Any, q: MCQuestion, passages: list[str] | None,
               scoring: str = "cloze") -> tuple[int | None, str, float]:
    """The model's choice (index, or None when a generated reply names none), what it said, seconds."""
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    t0 = time.perf_counter()
    lettered = scoring != "cloze"
    msgs = [ChatMessage(role=MessageRole.SYSTEM, content=SYSTEM if lettered else CLOZE_SYSTEM),
            ChatMessage(role=MessageRole.USER, content=prompt(q, passages, lettered=lettered))]
    if scoring == "generate":
        reply = (llm.chat(msgs, max_tokens=8, temperature=0.0).message.content or "").strip()
        return parse_choice(reply, len(q.choices)), reply, time.perf_counter() - t0
    options = list(LETTERS[: len(q.choices)]) if lettered else [str(c) for c in q.choices]
    scored = llm.continuation_logprobs(msgs, options)
    best = max(range(len(scored)), key=lambda i: scored[i].mean)
    shown = "; ".join(f"{LETTERS[i]} {c.mean:.2f}" for i, c in enumerate(scored))
    return best, f"mean log-prob per token: {shown}", time.perf_counter() - t0


def summarise(items: list[dict], conditions: tuple[str, ...]) -> dict[str, Any]:
    m: dict[str, Any] = {}
    for c in conditions:
        key = c.replace("-", "_")
        m[f"{key}_accuracy"] = rate(i[c]["correct"] for i in items if c in i)
        m[f"{key}_unparsed"] = rate(i[c]["choice"] is None for i in items if c in i)
    if set(CONDITIONS) <= set(conditions) and m.get("retrieval_accuracy") is not None:
        m["retrieval_gain"] = m["retrieval_accuracy"] - m["closed_book_accuracy"]
        # How often retrieval changed the outcome, each way (a gain of 0 can hide both).
        m["fixed_by_retrieval"] = sum(1 for i in items if i["retrieval"]["correct"] and not i["closed-book"]["correct"])
        m["broken_by_retrieval"] = sum(1 for i in items if i["closed-book"]["correct"] and not i["retrieval"]["correct"])
    m["chance"] = (sum(1 / len(i["choices"]) for i in items) / len(items)) if items else None
    return m


def main(argv: list[str] | None = None) -> int:
    p = parser("knowledge", __doc__.splitlines()[0], dataset_help="MMLU-style CSV (question, choices, answer).")
    p.add_argument("--conditions", nargs="+", choices=CONDITIONS, default=list(CONDITIONS))
    p.add_argument("--top-k", type=int, default=3, help="Passages given in the retrieval condition (default 3).")
    p.add_argument("--scoring", choices=SCORINGS, default="cloze",
                   help="How the choice is read: cloze (likeliest choice text, default), letter (likeliest "
                        "letter), generate (parse the generated letter; any backend).")
    args = p.parse_args(argv)
    apply_model_options(args)
    from tutor.errors import TutorError

    if args.dataset is None:
        raise TutorError("the knowledge suite needs --dataset: an MMLU-style CSV, e.g. "
                         "../shared/external/mmlu-redux_machine_learning.csv")
    fmt = resolve(args.dataset, args.format, "knowledge", ("mmlu",))
    questions, counts = read_mmlu(args.dataset)
    questions = questions[: args.limit]
    from tutor.config import get_settings
    from tutor.llm.load import get_llm

    settings = get_settings()
    run = EvalRun("knowledge", args, model=settings.llm_preset, dataset=str(args.dataset), fmt=fmt)
    llm = get_llm()
    retriever = None
    if "retrieval" in args.conditions:
        from knowledge.corpus_default import ensure_default_corpus
        from knowledge.retrieve import Retriever

        ensure_default_corpus(settings=settings, show_progress=not args.no_progress)
        retriever = Retriever(settings=settings)

    def one(q: MCQuestion) -> dict:
        item: dict[str, Any] = {"id": q.id, "question": q.question, "choices": q.choices,
                                "answer": LETTERS[q.answer], "note": q.note}
        for c in args.conditions:
            passages, sources = None, []
            if c == "retrieval":
                hits = retriever.search(q.question, top_k=args.top_k, mode="hybrid")
                passages, sources = [h.text for h in hits], [h.source for h in hits]
            choice, reply, secs = ask_choice(llm, q, passages, args.scoring)
            item[c] = {"choice": LETTERS[choice] if choice is not None else None, "correct": choice == q.answer,
                       "reply": reply, "latency_s": round(secs, 2), **({"sources": sources} if sources else {})}
        return item

    run.score(questions, one, desc="knowledge (MMLU)")
    conditions = tuple(args.conditions)
    metrics = summarise(run.items, conditions)
    from evals.report import markdown_table

    rows = [[c, len(run.items), metrics[f"{c.replace('-', '_')}_accuracy"], metrics[f"{c.replace('-', '_')}_unparsed"]]
            for c in conditions]
    table = markdown_table(["condition", "n", "accuracy", "unparsed"], rows)
    if "retrieval_gain" in metrics:
        table += (f"\n\nretrieval gain {metrics['retrieval_gain']:+.3f} (fixed {metrics['fixed_by_retrieval']}, "
                  f"broken {metrics['broken_by_retrieval']}); chance {metrics['chance']:.3f}")
    table += f"\n\nscoring: {args.scoring}"
    table += (f"\n\nMMLU-Redux rows: {counts['rows']} read, {counts['ok']} OK, {counts['fixed']} with a fixed answer, "
              f"{counts['dropped']} dropped (flagged)")
    return run.finish(metrics, extra={"rows": counts, "top_k": args.top_k, "scoring": args.scoring}, table=table)


if __name__ == "__main__":
    from evals.report import run_cli

    run_cli(main)
