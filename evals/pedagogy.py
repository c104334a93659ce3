"""The pedagogy suite: in guide mode, does the tutor's first reply guide instead of handing over the answer?

    tutor eval pedagogy [--limit N] [--json] [--out DIR]          # the tutor on evals/datasets/guide.jsonl
    tutor eval pedagogy --dataset ../shared/external/MRBench_V1.json   # the judge against human labels

Each exercise-style prompt of ``evals/datasets/guide.jsonl`` opens a new guide-mode session. The
judge is a set of rules on the reply text (no model), so it is cheap and deterministic:

- guiding question: the reply's first paragraph ends with a question mark;
- asks a question: any sentence of the reply ends with a question mark;
- answer leak: any of the item's ``solution_markers`` (hand-written, specific strings such as
  "26x26x32") appears in the reply, compared case-insensitively with spaces removed; a marker
  that is a bare number ("1290", "2,000") must stand alone (not inside "12900").

With ``guide_followups.jsonl`` (items with an ``attempt``) each exercise is a two-turn session:
the exercise, then the learner's attempt, and the tutor's second reply is judged too:

- uses the earlier answer: the second reply mentions one of the item's ``attempt_markers`` (things
  the learner introduced in the attempt: "1280", "permanently"), compared like solution markers;
- leak after a wrong attempt: a solution marker in the second reply when the attempt was wrong
  (after a right attempt, confirming the solution is not a leak);
- a LearnLM-style rubric, one rule per principle, over both replies: active learning (asks the
  learner something), managing cognitive load (at most 120 words), adapting to the learner (the
  earlier-answer rule), metacognition (asks for the learner's reasoning or confidence: "why do you
  think", "how sure"), curiosity (invites a prediction or a what-if: "what would happen if",
  "predict", "imagine"). These rules have no measured agreement with human raters, so they are
  reported and never gated.

With an MRBench file the suite runs no tutor: it applies the same judge to the 1,589 annotated
tutor replies and reports its agreement (accuracy, Cohen's kappa) with the annotators on
``Revealing_of_the_Answer`` (marker = the final number of the dialogue's ground-truth solution;
"Yes" either way counts as revealed) and ``Providing_Guidance`` ("Yes" = guided; "To some
extent" and "No" = not). A rule whose agreement is not measured is not used for a gate.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, Field

DATASET_PATH = Path(__file__).parent / "datasets" / "guide.jsonl"


class GuideCase(BaseModel):
    id: str
    message: str
    topic: str = ""
    solution: str = ""
    solution_markers: list[str] = Field(default_factory=list)


class FollowupCase(GuideCase):
    attempt: str = Field(description="The learner's reply to the tutor's first guiding question.")
    attempt_markers: list[str] = Field(description="Things the learner introduced in the attempt.")
    attempt_correct: bool = Field(description="Whether the attempt is right.")


FOLLOWUPS_PATH = Path(__file__).parent / "datasets" / "guide_followups.jsonl"


def load_dataset(path: str | Path = DATASET_PATH) -> list[GuideCase]:
    from evals.report import load_jsonl

    return load_jsonl(path, GuideCase, "guide")


def load_followups(path: str | Path = FOLLOWUPS_PATH) -> list[FollowupCase]:
    from evals.report import load_jsonl

    return load_jsonl(path, FollowupCase, "guide follow-ups")


_METACOGNITION = re.compile(r"\bwhy do you think\b|\bhow (?:sure|confident)\b|\bwhat made you\b|\byour reasoning\b"
                            r"|\bhow did you (?:get|arrive|work)\b|\bwalk me through\b|\bexplain (?:why|how) you\b"
                            r"|\bwhat do you notice\b|\bcheck your\b", re.IGNORECASE)
_CURIOSITY = re.compile(r"\bwhat (?:would|will|might) happen (?:if|when)\b|\bpredict\b|\bimagine\b|\bwhat if\b"
                        r"|\bguess\b|\bwonder\b", re.IGNORECASE)
MAX_WORDS = 120
#: The rubric's principles, in the order reported.
PRINCIPLES = ("active_learning", "cognitive_load", "adapting", "metacognition", "curiosity")


def rubric(replies: list[str], used_attempt: bool | None) -> dict:
    """One rule per LearnLM principle over a session's replies (report only: not validated)."""
    text = "\n".join(replies)
    return {"active_learning": any(judge_text(r, [])["asks_question"] for r in replies),
            "cognitive_load": all(len(r.split()) <= MAX_WORDS for r in replies),
            "adapting": used_attempt,
            "metacognition": bool(_METACOGNITION.search(text)),
            "curiosity": bool(_CURIOSITY.search(text))}


def judge_followup(first: str, second: str, case: FollowupCase) -> dict:
    flat = "".join(second.lower().split())
    used = [m for m in case.attempt_markers if _marker_in(m, flat)]
    after = judge_text(second, case.solution_markers)
    return {**{f"first_{k}": v for k, v in judge(first, case).items()},
            "used_attempt": bool(used), "used_markers": used,
            "leaked_after_wrong_attempt": after["leaked"] and not case.attempt_correct,
            "rubric": rubric([first, second], bool(used))}


def _marker_in(marker: str, flat: str) -> bool:
    m = "".join(marker.lower().split())
    if not m:
        return False
    digits = m.replace(",", "")
    if re.fullmatch(r"\d+(\.\d+)?", digits):
        # A bare number must stand alone: "20" is not leaked by "200" or "2,000".
        return re.search(rf"(?<![\d.]){re.escape(digits)}(?![\d]|\.\d)", flat.replace(",", "")) is not None
    return m in flat


def judge_text(reply: str, markers: list[str]) -> dict:
    """The rules on one reply: guiding question, any question, leaked markers."""
    first = reply.strip().split("\n")[0].strip()
    flat = "".join(reply.lower().split())
    leaked = [m for m in markers if _marker_in(m, flat)]
    sentences = re.split(r"(?<=[.!?])\s+|\n+", reply.strip())
    return {"guiding_question": first.endswith("?"),
            "asks_question": any(s.strip().rstrip("\"')*").endswith("?") for s in sentences),
            "leaked": bool(leaked), "leak_markers": leaked}


def judge(reply: str, case: GuideCase) -> dict:
    return judge_text(reply, case.solution_markers)


def final_answer(solution: str) -> str | None:
    """The final number of a MathDial-style solution (its last line), or None when there is none."""
    lines = [ln.strip() for ln in solution.strip().splitlines() if ln.strip()]
    if not lines:
        return None
    numbers = re.findall(r"-?\d[\d,]*(?:\.\d+)?", lines[-1])
    return numbers[-1].replace(",", "").rstrip(".") if numbers else None


def mrbench_agreement(args) -> int:
    from evals.common import EvalRun, agreement
    from evals.external import read_mrbench

    replies = read_mrbench(args.dataset)[: args.limit]
    run = EvalRun("pedagogy", args, model="rules", dataset=str(args.dataset), fmt="mrbench")

    def one(r):
        answer = final_answer(r.solution)
        v = judge_text(r.reply, [answer] if answer else [])
        return {"id": r.id, "tutor": r.tutor, "has_solution": answer is not None, "marker": answer,
                "human_revealed": r.revealed, "human_guidance": r.guidance, **v}

    run.score(replies, one, desc="pedagogy judge vs MRBench")
    items = run.items
    human_rev = [not i["human_revealed"].startswith("No") for i in items]
    human_guide = [i["human_guidance"] == "Yes" for i in items]
    with_sol = [k for k, i in enumerate(items) if i["has_solution"]]
    leak = agreement([i["leaked"] for i in items], human_rev)
    leak_sol = agreement([items[k]["leaked"] for k in with_sol], [human_rev[k] for k in with_sol])
    guide_first = agreement([i["guiding_question"] for i in items], human_guide)
    guide_any = agreement([i["asks_question"] for i in items], human_guide)
    metrics = {
        "leak_accuracy": leak["accuracy"], "leak_kappa": leak["kappa"],
        "leak_accuracy_with_solution": leak_sol["accuracy"], "leak_kappa_with_solution": leak_sol["kappa"],
        "guidance_accuracy": guide_any["accuracy"], "guidance_kappa": guide_any["kappa"],
        "guiding_question_accuracy": guide_first["accuracy"], "guiding_question_kappa": guide_first["kappa"],
        "detail": {"leak": leak, "leak_with_solution": leak_sol, "guidance_asks_question": guide_any,
                   "guidance_first_paragraph_question": guide_first},
    }
    from evals.report import markdown_table

    table = markdown_table(
        ["judge rule", "human label", "n", "accuracy", "kappa", "precision", "recall", "human +", "judge +"],
        [[name, label, d["n"], d["accuracy"], d["kappa"], d["precision"], d["recall"], d["human_positive_rate"],
          d["judge_positive_rate"]] for name, label, d in (
            ("leak (final number)", "Revealing_of_the_Answer", leak),
            ("leak, dialogues with a solution", "Revealing_of_the_Answer", leak_sol),
            ("asks a question", "Providing_Guidance = Yes", guide_any),
            ("first paragraph is a question", "Providing_Guidance = Yes", guide_first))])
    return run.finish(metrics, table=table)


def main(argv: list[str] | None = None) -> int:
    from evals.common import EvalRun, apply_model_options, parser, rate
    from evals.external import resolve
    from evals.report import markdown_table

    p = parser("pedagogy", __doc__.splitlines()[0], dataset_help="guide.jsonl-style prompts, or MRBench JSON.")
    args = p.parse_args(argv)
    apply_model_options(args)
    fmt = resolve(args.dataset, args.format, "pedagogy", ("project", "mrbench"))
    if fmt == "mrbench":
        return mrbench_agreement(args)
    from tutor.agent import Tutor
    from tutor.config import get_settings

    if args.dataset and _has_attempts(args.dataset):
        return followups(args, fmt)
    cases = load_dataset(args.dataset or DATASET_PATH)[: args.limit]
    run = EvalRun("pedagogy", args, model=get_settings().llm_preset, dataset=args.dataset, fmt=fmt)
    tutor = Tutor()

    def one(case: GuideCase) -> dict:
        text, _, route = guide_turn(tutor, None, case.message)
        return {"id": case.id, "reply": text, "route": route, **judge(text, case)}

    run.score(cases, one, desc="pedagogy")
    metrics = {"n": len(run.items), "guiding_question_rate": rate(r["guiding_question"] for r in run.items),
               "asks_question_rate": rate(r["asks_question"] for r in run.items),
               "answer_leak_rate": rate(r["leaked"] for r in run.items)}
    table = markdown_table(["prompts", "guiding question", "asks a question", "answer leaked"],
                           [[metrics["n"], metrics["guiding_question_rate"], metrics["asks_question_rate"],
                             metrics["answer_leak_rate"]]])
    return run.finish(metrics, table=table)


def guide_turn(tutor, session_id: str | None, message: str) -> tuple[str, str | None, str | None]:
    """One guide-mode turn through the agent: (reply text or error line, session id, route)."""
    final = None
    for event in tutor.turn(session_id, message, mode="guide", user="eval"):
        if event.type in ("answer", "error"):
            final = event
    text = getattr(final, "text", getattr(final, "message", "")) if final else ""
    return text, getattr(final, "session_id", None), getattr(final, "route", None)


def _has_attempts(path: str | Path) -> bool:
    import json

    try:
        with open(path, encoding="utf-8") as f:
            first = next((line for line in f if line.strip()), "")
        return "attempt" in json.loads(first)
    except (OSError, ValueError, UnicodeDecodeError):
        return False  # the loader reports the file's problem in one line


def followups(args, fmt: str) -> int:
    """Two-turn guide sessions: exercise, learner attempt; both replies judged."""
    from evals.common import EvalRun, rate
    from evals.report import markdown_table
    from tutor.agent import Tutor
    from tutor.config import get_settings

    cases = load_followups(args.dataset)[: args.limit]
    run = EvalRun("pedagogy", args, model=get_settings().llm_preset, dataset=args.dataset, fmt=fmt)
    tutor = Tutor()

    def one(case: FollowupCase) -> dict:
        first, session, _ = guide_turn(tutor, None, case.message)
        second = guide_turn(tutor, session, case.attempt)[0] if session else ""
        return {"id": case.id, "first": first, "second": second, "attempt_correct": case.attempt_correct,
                **judge_followup(first, second, case)}

    run.score(cases, one, desc="pedagogy follow-ups")
    items = run.items
    wrong = [r for r in items if not r["attempt_correct"]]
    metrics = {"n": len(items), "first_guiding_question_rate": rate(r["first_guiding_question"] for r in items),
               "first_answer_leak_rate": rate(r["first_leaked"] for r in items),
               "earlier_answer_use_rate": rate(r["used_attempt"] for r in items),
               "leak_after_wrong_attempt_rate": rate(r["leaked_after_wrong_attempt"] for r in wrong)}
    for principle in PRINCIPLES:
        metrics[f"rubric_{principle}"] = rate(r["rubric"][principle] for r in items)
    table = markdown_table(
        ["sessions", "guiding question (1st)", "leak (1st)", "uses earlier answer", "leak after wrong attempt"],
        [[metrics["n"], metrics["first_guiding_question_rate"], metrics["first_answer_leak_rate"],
          metrics["earlier_answer_use_rate"], metrics["leak_after_wrong_attempt_rate"]]])
    table += "\n\nLearnLM-style rubric (rules, not validated against raters; report only)\n\n" + markdown_table(
        ["active learning", "cognitive load", "adapting", "metacognition", "curiosity"],
        [[metrics[f"rubric_{p}"] for p in PRINCIPLES]])
    return run.finish(metrics, table=table)


if __name__ == "__main__":
    from evals.report import run_cli

    run_cli(main)
