"""The answers suite: are the tutor's answers right, cited, faithful, in its own words, and honest?

    python -m evals answers [--limit N] [--unanswerable N] [--json [PATH]] [--out DIR] [--no-attribution]

Each question of ``evals/datasets/answers.jsonl`` goes through the agent (``Tutor.turn``, explain
mode, one new session each). Scored per answer, by rules (documented here; their agreement with
a hand-labelled sample is still to be measured, so no gate uses them yet):

- correctness: every key point is stated (one of its phrasings appears in the lower-cased answer)
  and no listed contradiction appears;
- inline-citation rate: the answer holds at least one inline [n] (grounded answers only);
- citation support: share of cited sentences whose [n] passage holds at least half of the
  sentence's content words (tutor.agent.attribution.best_passage's rule);
- exact-keep: every ``must_keep`` string appears verbatim;
- abstention: an unanswerable question gets "my sources don't cover that" (or no grounded answer);
- pasted-passage rate: the answer repeats a passage heading line, or a run of 200+ characters of a
  passage verbatim;
- latency: seconds per answer.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

DATASET_PATH = Path(__file__).parent / "datasets" / "answers.jsonl"
_ABSTAIN = re.compile(r"don't cover|do not cover|not covered|cannot answer|can't answer|no information|don't know",
                      re.IGNORECASE)


class AnswerCase(BaseModel):
    id: str
    question: str
    answerable: bool = True
    topic: str = ""
    kind: str = ""
    key_points: list[list[str]] = Field(default_factory=list)
    must_keep: list[str] = Field(default_factory=list)
    contradictions: list[str] = Field(default_factory=list)
    source: list[str] = Field(default_factory=list)


def load_dataset(path: str | Path = DATASET_PATH) -> list[AnswerCase]:
    from evals.report import load_jsonl

    return load_jsonl(path, AnswerCase, "answers")


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def score_answer(case: AnswerCase, text: str, citations: list[Any], passages: list[Any], grounded: bool) -> dict:
    from tutor.agent.attribution import best_passage, content_words

    low = text.lower()
    row: dict[str, Any] = {"id": case.id, "answerable": case.answerable}
    if not case.answerable:
        row["abstained"] = bool(_ABSTAIN.search(text))  # the tutor's no-context reply says "don't cover"
        return row
    stated = [any(p.lower() in low for p in point) for point in case.key_points]
    contradicted = [c for c in case.contradictions if c.lower() in low]
    row["correct"] = all(stated) and not contradicted
    row["key_points_stated"] = sum(stated) / len(stated) if stated else 1.0
    markers = re.findall(r"(?<![\w)\]])\[(\d+)\]", re.sub(r"```.*?```|`[^`]*`", "", text, flags=re.DOTALL))
    row["inline_cited"] = bool(markers)
    by_n = {c.n: content_words(c.text) for c in citations}
    supported, cited_sentences = 0, 0
    for sentence in _sentences(text):
        ns = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
        if not ns:
            continue
        cited_sentences += 1
        bare = re.sub(r"\[\d+\]", "", sentence)
        if any(n in by_n and best_passage(bare, [by_n[n]]) == 1 for n in ns):
            supported += 1
    row["cited_sentences"], row["supported_sentences"] = cited_sentences, supported
    row["exact_keep"] = all(k in text for k in case.must_keep) if case.must_keep else None
    pasted = False
    for p in passages:
        heading = " › ".join(x for x in (p.title, p.section) if x)
        if heading and heading in text:
            pasted = True
        body = " ".join(p.text.split())
        flat = " ".join(text.split())
        if any(body[i:i + 200] in flat for i in range(0, max(1, len(body) - 200), 50)):
            pasted = True
    row["pasted"] = pasted
    return row


def summarise(rows: list[dict]) -> dict[str, Any]:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    cited = sum(r["cited_sentences"] for r in ans)
    keep = [r["exact_keep"] for r in ans if r.get("exact_keep") is not None]
    lat = [r["latency_s"] for r in rows if "latency_s" in r]
    return {
        "answerable": len(ans), "unanswerable": len(una),
        "correctness": sum(r["correct"] for r in ans) / len(ans) if ans else None,
        "key_points_stated": statistics.mean(r["key_points_stated"] for r in ans) if ans else None,
        "inline_citation_rate": sum(r["inline_cited"] for r in ans) / len(ans) if ans else None,
        "citation_support": sum(r["supported_sentences"] for r in ans) / cited if cited else None,
        "exact_keep": sum(keep) / len(keep) if keep else None,
        "abstention": sum(r["abstained"] for r in una) / len(una) if una else None,
        "pasted_passage_rate": sum(r["pasted"] for r in ans) / len(ans) if ans else None,
        "latency_p50_s": statistics.median(lat) if lat else None,
    }


def run(cases: list[AnswerCase], tutor: Any, on_row=None) -> dict:
    rows = []
    for case in cases:
        passages, final = [], None
        for event in tutor.turn(None, case.question, mode="explain", user="eval"):
            if event.type == "passages":
                passages = event.passages
            elif event.type in ("answer", "error"):
                final = event
        if final is None or final.type == "error":
            row = {"id": case.id, "answerable": case.answerable, "error": getattr(final, "message", "no answer")}
            if case.answerable:
                row.update(correct=False, key_points_stated=0.0, inline_cited=False, cited_sentences=0,
                           supported_sentences=0, exact_keep=False if case.must_keep else None, pasted=False)
            else:
                row["abstained"] = False
        else:
            row = score_answer(case, final.text, final.citations, passages, final.grounded)
            row.update(latency_s=round(final.latency_s, 2), answer=final.text, model=final.model)
        rows.append(row)
        if on_row:
            on_row(rows)
    return {"suite": "answers", "metrics": summarise(rows), "items": rows}


class _Final:
    """The fields of an AnswerEvent the scorer reads, for the anchors (which are not the agent)."""

    def __init__(self, text, citations, grounded, latency_s, model):
        self.type, self.text, self.citations, self.grounded = "answer", text, citations, grounded
        self.latency_s, self.model = latency_s, model


class ClosedBook:
    """Anchor (a): the same model answering from its own weights, no retrieval."""

    def __init__(self, llm):
        self.llm = llm

    def turn(self, session_id, question, **kw):
        import time

        from llama_index.core.base.llms.types import ChatMessage, MessageRole

        t0 = time.perf_counter()
        msgs = [ChatMessage(role=MessageRole.SYSTEM, content="You are a helpful deep-learning tutor. Answer briefly."),
                ChatMessage(role=MessageRole.USER, content=question)]
        text = self.llm.chat(msgs).message.content or ""
        yield _Final(text.strip(), [], False, time.perf_counter() - t0, "closed-book")


class LlamaIndexDefault:
    """Anchor (b): what a LlamaIndex user writes first, ``VectorStoreIndex(...).as_query_engine()`` over the
    same chunks (the tutor's Qdrant collection), same embedding model, same LLM, library defaults."""

    def __init__(self, llm, settings):
        from llama_index.core import VectorStoreIndex

        from knowledge.embed import TutorEmbedding
        from knowledge.store import Store

        index = VectorStoreIndex.from_vector_store(Store(settings).vector_store(), embed_model=TutorEmbedding(settings))
        self.engine = index.as_query_engine(llm=llm)

    def turn(self, session_id, question, **kw):
        import time

        from tutor.agent.ask import SourceRef

        t0 = time.perf_counter()
        response = self.engine.query(question)
        refs = [SourceRef(n=i, source=str(n.node.metadata.get("source", "")), title=str(n.node.metadata.get("title", "")),
                          section=str(n.node.metadata.get("section", "")), text=n.node.get_content())
                for i, n in enumerate(response.source_nodes, 1)]
        passages = _Passages(refs)
        yield passages
        yield _Final(str(response).strip(), refs, True, time.perf_counter() - t0, "llamaindex-default")


class _Passages:
    type = "passages"

    def __init__(self, passages):
        self.passages = passages


def main(argv: list[str] | None = None) -> int:
    from evals.common import EvalRun, apply_model_options, parser
    from evals.external import resolve
    from evals.report import markdown_table
    from tutor.config import get_settings

    p = parser("answers", __doc__.splitlines()[0], dataset_help="answers.jsonl-style questions.")
    p.add_argument("--unanswerable", type=int, default=None, help="First N unanswerable questions.")
    p.add_argument("--no-attribution", action="store_true", help="Only the model's own [n] markers.")
    p.add_argument("--system", choices=["tutor", "closed-book", "llamaindex"], default="tutor",
                   help="tutor (the agent), or an anchor: closed-book (no retrieval), llamaindex "
                        "(VectorStoreIndex.as_query_engine over the same chunks).")
    args = p.parse_args(argv)
    apply_model_options(args)
    fmt = resolve(args.dataset, args.format, "answers", ("project",))
    cases = load_dataset(args.dataset or DATASET_PATH)
    # --limit is the number of answerable questions (as before), --unanswerable the others'.
    ans = [c for c in cases if c.answerable][: args.limit]
    una = [c for c in cases if not c.answerable][: args.unanswerable]
    from tutor.agent import Tutor

    settings = get_settings().model_copy(update={"attribute_citations": not args.no_attribution})
    if args.system == "tutor":
        tutor = Tutor(settings)
    else:
        from tutor.llm.load import get_llm

        tutor = ClosedBook(get_llm()) if args.system == "closed-book" else LlamaIndexDefault(get_llm(), settings)
    ev = EvalRun("answers", args, model=settings.llm_preset, dataset=args.dataset, fmt=fmt,
                 gate_model=settings.llm_preset)
    ev.score(ans + una, lambda case: run([case], tutor)["items"][0], desc=f"answers ({args.system})")
    m = summarise(ev.items)
    table = markdown_table(["system", "answerable", "unanswerable", "correct", "key points", "inline [n]", "support",
                            "exact-keep", "abstain", "pasted", "p50 s"],
                           [[args.system, m["answerable"], m["unanswerable"], m["correctness"], m["key_points_stated"],
                             m["inline_citation_rate"], m["citation_support"], m["exact_keep"], m["abstention"],
                             m["pasted_passage_rate"], m["latency_p50_s"]]])
    return ev.finish(m, extra={"system": args.system}, table=table)


if __name__ == "__main__":
    from evals.report import run_cli

    run_cli(main)
