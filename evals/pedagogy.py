"""The pedagogy suite: in guide mode, does the tutor's first reply guide instead of handing over the answer?

    python -m evals pedagogy [--limit N] [--json PATH]

Each exercise-style prompt of ``evals/datasets/guide.jsonl`` opens a new guide-mode session. Judged
by rules (documented here; their agreement with human labels is not measured yet, so no gate):

- guiding question: the reply's first paragraph ends with a question mark;
- answer leak: any of the item's ``solution_markers`` (hand-written, specific strings such as
  "26x26x32") appears in the reply, compared case-insensitively with spaces removed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import BaseModel, Field


DATASET_PATH = Path(__file__).parent / "datasets" / "guide.jsonl"


class GuideCase(BaseModel):
    id: str
    message: str
    topic: str = ""
    solution: str = ""
    solution_markers: list[str] = Field(default_factory=list)


def load_dataset(path: str | Path = DATASET_PATH) -> list[GuideCase]:
    from evals.report import load_jsonl

    return load_jsonl(path, GuideCase, "guide")


def judge(reply: str, case: GuideCase) -> dict:
    first = reply.strip().split("\n")[0].strip()
    flat = "".join(reply.lower().split())
    leaked = [m for m in case.solution_markers if "".join(m.lower().split()) in flat]
    return {"guiding_question": first.endswith("?"), "leaked": bool(leaked), "leak_markers": leaked}


def main(argv: list[str] | None = None) -> int:
    from tqdm import tqdm

    from evals.report import markdown_table, write_json
    from tutor.agent import Tutor

    parser = argparse.ArgumentParser(prog="python -m evals pedagogy", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=str(DATASET_PATH))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    cases = load_dataset(args.dataset)[: args.limit]
    tutor = Tutor()
    rows = []
    for case in tqdm(cases, desc="pedagogy", file=sys.stderr):
        final = [e for e in tutor.turn(None, case.message, mode="guide", user="eval") if e.type in ("answer", "error")][-1]
        text = getattr(final, "text", getattr(final, "message", ""))
        rows.append({"id": case.id, "reply": text, "route": getattr(final, "route", None), **judge(text, case)})
        if args.json_path:
            write_json(args.json_path, {"suite": "pedagogy", "items": rows})
    n = len(rows) or 1
    metrics = {"n": len(rows), "guiding_question_rate": sum(r["guiding_question"] for r in rows) / n,
               "answer_leak_rate": sum(r["leaked"] for r in rows) / n}
    if args.json_path:
        write_json(args.json_path, {"suite": "pedagogy", "metrics": metrics, "items": rows})
    print(markdown_table(["prompts", "guiding question", "answer leaked"],
                         [[metrics["n"], metrics["guiding_question_rate"], metrics["answer_leak_rate"]]]))
    return 0
