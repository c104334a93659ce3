"""How far the answers suite's correctness judge agrees with a human: `python -m evals.answers_agreement`.

    python -m evals.answers_agreement                      # the shipped labels and sample runs
    python -m evals.answers_agreement --labels L.jsonl --run tutor=RUN.json --run llamaindex=RUN2.json

The judge (``evals/answers.py``) marks an answer correct when it states every key point in one of its
listed phrasings and contradicts none. ``evals/datasets/answers_labels.jsonl`` holds one person's
verdict on the same answers: correct = a learner reading it would come away right about what was
asked, nothing wrong stated (paraphrases count, a missing reason counts against only when the
question asked for it). Reported: agreement, Cohen's kappa, and the judge's precision and recall
against the human label, per system and overall.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import BaseModel, Field

from evals.report import load_jsonl, markdown_table

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT.parent / "benchmarks" / "results"
DEFAULT_RUNS = {"tutor": RESULTS / "answers_tutor_sample.json", "llamaindex": RESULTS / "answers_llamaindex_sample.json",
                # the second sample (same questions, later code: per-part answers, the answer rescue)
                "tutor-run2": RESULTS / "answers_run2_tutor.json",
                # run 2 with the "in your own words" system prompt (a lever that lost, docs/answers.md)
                "tutor-ownwords": RESULTS / "answers_run2_tutor_ownwords.json"}


class Label(BaseModel):
    id: str = Field(description="The answers-set question id.")
    system: str = Field(description="Which system's answer was labelled (tutor, llamaindex, tutor-run2).")
    correct: bool = Field(description="The person's verdict.")
    note: str = Field("", description="Why, where the verdict may surprise.")


def kappa(pairs: list[tuple[bool, bool]]) -> float:
    """Cohen's kappa for two yes/no raters (1.0 when they agree and chance agreement is total)."""
    n = len(pairs)
    agree = sum(a == b for a, b in pairs) / n
    a_yes, b_yes = sum(a for a, _ in pairs) / n, sum(b for _, b in pairs) / n
    chance = a_yes * b_yes + (1 - a_yes) * (1 - b_yes)
    return 1.0 if chance == 1 else (agree - chance) / (1 - chance)


def scores(pairs: list[tuple[bool, bool]]) -> dict[str, float]:
    """(judge, human) verdicts -> agreement, kappa, and the judge's precision/recall for 'correct'."""
    both = sum(j and h for j, h in pairs)
    judged, human = sum(j for j, _ in pairs), sum(h for _, h in pairs)
    return {"n": len(pairs), "agreement": round(sum(j == h for j, h in pairs) / len(pairs), 3),
            "kappa": round(kappa(pairs), 3), "judge_precision": round(both / judged, 3) if judged else None,
            "judge_recall": round(both / human, 3) if human else None,
            "judge_correct_rate": round(judged / len(pairs), 3), "human_correct_rate": round(human / len(pairs), 3)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.answers_agreement", description=__doc__.split("\n")[0])
    p.add_argument("--labels", type=Path, default=ROOT / "datasets" / "answers_labels.jsonl")
    p.add_argument("--run", action="append", default=[], metavar="SYSTEM=PATH",
                   help="An answers-suite report (JSON with 'items'); default: the shipped sample runs.")
    args = p.parse_args(argv)
    runs = dict(r.split("=", 1) for r in args.run) if args.run else DEFAULT_RUNS
    labels = {(r.system, r.id): r.correct for r in load_jsonl(args.labels, Label, "answer labels")}
    table, every = {}, []
    for system, path in runs.items():
        items = json.loads(Path(path).read_text())["items"]
        pairs = [(bool(it["correct"]), labels[(system, it["id"])]) for it in items if (system, it["id"]) in labels]
        if pairs:
            table[system] = scores(pairs)
            every += pairs
    if not every:
        print("error: no labelled item found in the given runs", file=sys.stderr)
        return 2
    table["all"] = scores(every)
    cols = ("n", "agreement", "kappa", "judge_precision", "judge_recall", "judge_correct_rate", "human_correct_rate")
    print(markdown_table(["system", "n", "agreement", "kappa", "judge precision", "judge recall", "judge: correct",
                          "human: correct"], [[system, *(s[c] for c in cols)] for system, s in table.items()]))
    return 0


if __name__ == "__main__":
    from evals.report import run_cli

    run_cli(main)
