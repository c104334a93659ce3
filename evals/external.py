"""Readers for public evaluation sets, read from wherever they lie (never copied into the repo).

``detect(path)`` names a file's format from its extension and first record; ``--format`` names
it instead. Each reader returns plain pydantic rows the suites score:

- ``mmlu``: MMLU-style CSV (question, choices, answer as 0-3 or A-D). MMLU-Redux's
  ``error_type`` is honoured: rows marked ``OK`` are kept, and a row whose ground truth was
  fixed (``Wrong groundtruth`` with a ``correct_answer``) is kept with the fixed answer; other
  flagged rows (unclear question, unclear options, several right answers) are dropped.
- ``mlquestions``: MLQuestions-style TSV (``input_text`` passage, ``target_text`` question).
- ``mrbench``: MRBench JSON (dialogues with annotated tutor replies).
- ``halueval``: HaluEval QA (JSON lines of knowledge, question, right and hallucinated answer).
- ``bfcl``: Berkeley Function-Calling Leaderboard files (JSON lines of questions + function
  schemas; expected calls in ``possible_answer/<same name>`` beside the file; a file whose name
  holds ``irrelevance`` expects no call).

A file in no known format (or broken in its own) is one TutorError naming the formats accepted.
"""

from __future__ import annotations

import ast
import csv
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tutor.errors import TutorError

ACCEPTED = ("the suite's own JSON lines (evals/datasets/*.jsonl), MMLU-style CSV (question,choices,answer), "
            "MLQuestions-style TSV (input_text,target_text), MRBench JSON, HaluEval QA JSON lines, "
            "BFCL JSON lines (with possible_answer/ beside them)")


def unreadable(path: Path, why: str) -> TutorError:
    return TutorError(f"cannot read {path} as an eval set ({why}); accepted formats: {ACCEPTED}.")


@contextmanager
def _csv_rows(path: Path, delimiter: str = ",",
              also: tuple[type[Exception], ...] = ()) -> Iterator[Iterator[tuple[int, dict[str, str]]]]:
    """The file's rows as dicts, numbered from 1.

    A decoding or CSV error while reading them, or one of ``also`` raised by the caller's code
    inside the ``with`` block (a missing column), becomes one ``unreadable`` line naming the file.
    """
    try:
        with path.open(encoding="utf-8", newline="") as f:
            yield enumerate(csv.DictReader(f, delimiter=delimiter), 1)
    except (UnicodeDecodeError, csv.Error, *also) as exc:
        raise unreadable(path, f"{type(exc).__name__}: {exc}") from None


def _first_json_record(path: Path) -> Any:
    text = path.read_text(encoding="utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise unreadable(path, f"broken JSON: {exc.msg} at line {exc.lineno}") from None
        return data[0] if isinstance(data, list) and data else None
    for line in text.splitlines():
        if line.strip():
            try:
                return json.loads(line)
            except json.JSONDecodeError as exc:
                raise unreadable(path, f"first line is not JSON: {exc.msg}") from None
    return None


def detect(path: str | Path) -> str:
    """The format name of ``path`` (see the module doc); a TutorError when it is none of them."""
    path = Path(path)
    if path.is_dir():
        if any(p.suffix in (".json", ".jsonl") for p in path.iterdir() if p.is_file()) and (path / "possible_answer").is_dir():
            return "bfcl"
        raise unreadable(path, "a folder, and not a BFCL folder with possible_answer/")
    if not path.is_file():
        raise TutorError(f"no dataset at {path}; pass an existing file.")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        with path.open(encoding="utf-8", errors="replace", newline="") as f:
            header = next(csv.reader(f, delimiter="\t" if suffix == ".tsv" else ","), [])
        cols = {c.strip() for c in header}
        if {"question", "choices", "answer"} <= cols:
            return "mmlu"
        if {"input_text", "target_text"} <= cols:
            return "mlquestions"
        raise unreadable(path, f"unknown columns {', '.join(sorted(cols))[:120]}")
    if suffix in (".json", ".jsonl"):
        rec = _first_json_record(path)
        if isinstance(rec, dict):
            if "anno_llm_responses" in rec:
                return "mrbench"
            if {"knowledge", "right_answer", "hallucinated_answer"} <= rec.keys():
                return "halueval"
            if "function" in rec and "question" in rec:
                return "bfcl"
            if "id" in rec:
                return "project"
        raise unreadable(path, "JSON records of no known shape")
    raise unreadable(path, f"unknown extension {suffix or '(none)'}")


def resolve(path: str | Path | None, fmt: str | None, suite: str, accepts: tuple[str, ...]) -> str:
    """The format to read ``path`` with for ``suite``; a one-line error when the suite cannot use it."""
    if path is None:
        return "project"
    found = fmt or detect(path)
    if found not in accepts:
        raise TutorError(f"{path} is {found} data; the {suite} suite reads {', '.join(accepts)}. "
                         f"{_WHERE.get(found, '')}".strip())
    return found


_WHERE = {
    "mmlu": "Use `tutor eval knowledge --dataset` for MMLU CSV.",
    "mlquestions": "Use `tutor eval retrieval --dataset` for MLQuestions TSV.",
    "mrbench": "Use `tutor eval pedagogy --dataset` for MRBench.",
    "halueval": "Use `tutor eval faithfulness --dataset` for HaluEval.",
    "bfcl": "Use `tutor eval tools --dataset` for BFCL files.",
}


# --- MMLU ------------------------------------------------------------------------------------
class MCQuestion(BaseModel):
    id: str
    question: str
    choices: list[str] = Field(min_length=2)
    answer: int = Field(ge=0, description="0-based index of the right choice.")
    note: str = ""


def _answer_index(raw: str, n: int) -> int | None:
    raw = (raw or "").strip()
    if raw.isdigit() and int(raw) < n:
        return int(raw)
    if len(raw) == 1 and raw.upper() in "ABCDEFGH"[:n]:
        return "ABCDEFGH".index(raw.upper())
    return None


def read_mmlu(path: str | Path) -> tuple[list[MCQuestion], dict[str, int]]:
    """Questions to score and counts of what was kept/dropped (MMLU-Redux ``error_type``)."""
    path = Path(path)
    kept: list[MCQuestion] = []
    counts = {"rows": 0, "ok": 0, "fixed": 0, "dropped": 0}
    with _csv_rows(path, also=(KeyError,)) as table:
        for i, row in table:
            counts["rows"] += 1
            raw = row.get("choices") or ""
            try:
                choices = ast.literal_eval(raw) if raw.strip().startswith("[") else json.loads(raw)
            except (ValueError, SyntaxError):
                raise unreadable(path, f"row {i}: choices is not a list") from None
            choices = [str(c) for c in choices]
            answer = _answer_index(row.get("answer", ""), len(choices))
            error = (row.get("error_type") or "OK").strip()
            note = ""
            if error.lower() != "ok":
                fixed = _answer_index(row.get("correct_answer", ""), len(choices))
                if error.lower() == "wrong groundtruth" and fixed is not None:
                    answer, note = fixed, "ground truth fixed by MMLU-Redux"
                    counts["fixed"] += 1
                else:
                    counts["dropped"] += 1
                    continue
            else:
                counts["ok"] += 1
            if answer is None:
                raise unreadable(path, f"row {i}: answer {row.get('answer')!r} is not a choice")
            kept.append(MCQuestion(id=f"{path.stem}-{i}", question=row["question"], choices=choices,
                                   answer=answer, note=note))
    return kept, counts


# --- MLQuestions ------------------------------------------------------------------------------
class PassageQuestion(BaseModel):
    id: str
    passage: str
    question: str


def read_mlquestions(path: str | Path) -> list[PassageQuestion]:
    path = Path(path)
    rows: list[PassageQuestion] = []
    with _csv_rows(path, delimiter="\t") as table:
        for i, row in table:
            passage, question = (row.get("input_text") or "").strip(), (row.get("target_text") or "").strip()
            if passage and question:
                rid = (row.get("indexes") or row.get("") or str(i)).strip()
                rows.append(PassageQuestion(id=f"mlq-{rid}", passage=passage, question=question))
    if not rows:
        raise unreadable(path, "no passage/question rows")
    return rows


# --- MRBench ----------------------------------------------------------------------------------
class TutorReply(BaseModel):
    id: str
    tutor: str
    reply: str
    history: str
    solution: str
    revealed: str = Field(description="Revealing_of_the_Answer label.")
    guidance: str = Field(description="Providing_Guidance label.")


def read_mrbench(path: str | Path) -> list[TutorReply]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise unreadable(path, f"broken JSON: {exc}") from None
    rows: list[TutorReply] = []
    for conv in data if isinstance(data, list) else []:
        replies = conv.get("anno_llm_responses") or {}
        if isinstance(replies, str):
            replies = ast.literal_eval(replies)
        for tutor, entry in replies.items():
            ann = entry.get("annotation") or {}
            if "Revealing_of_the_Answer" not in ann or "Providing_Guidance" not in ann:
                continue
            rows.append(TutorReply(id=f"{conv.get('conversation_id', '?')}:{tutor}", tutor=tutor,
                                   reply=str(entry.get("response", "")), history=str(conv.get("conversation_history", "")),
                                   solution=str(conv.get("Ground_Truth_Solution", "")),
                                   revealed=ann["Revealing_of_the_Answer"], guidance=ann["Providing_Guidance"]))
    if not rows:
        raise unreadable(path, "no annotated tutor replies")
    return rows


# --- HaluEval ---------------------------------------------------------------------------------
class HaluItem(BaseModel):
    id: str
    knowledge: str
    question: str
    right_answer: str
    hallucinated_answer: str


def read_halueval(path: str | Path) -> list[HaluItem]:
    path = Path(path)
    rows: list[HaluItem] = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(HaluItem(id=f"halueval-{i}", **json.loads(line)))
            except (json.JSONDecodeError, TypeError, ValueError) as exc:
                raise unreadable(path, f"line {i}: {str(exc).splitlines()[0]}") from None
    return rows


# --- BFCL -------------------------------------------------------------------------------------
class BfclCase(BaseModel):
    id: str
    category: str
    messages: list[dict[str, Any]]
    functions: list[dict[str, Any]]
    expected: list[dict[str, dict[str, list[Any]]]] | None = Field(
        None, description="Ground-truth calls, each {name: {param: [accepted values]}}; None = no call fits.")


def _bfcl_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".json", ".jsonl"))
    return [path]


def _category(file: Path) -> str:
    stem = re.sub(r"^BFCL_v\d+_", "", file.stem)
    return stem


def read_bfcl(path: str | Path) -> list[BfclCase]:
    path = Path(path)
    cases: list[BfclCase] = []
    for file in _bfcl_files(path):
        category = _category(file)
        answers: dict[str, Any] = {}
        answer_file = file.parent / "possible_answer" / file.name
        if answer_file.is_file():
            for line in answer_file.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rec = json.loads(line)
                    answers[rec["id"]] = rec["ground_truth"]
        elif "irrelevance" not in category:
            raise unreadable(file, f"no possible_answer/{file.name} beside it (only irrelevance files have none)")
        for i, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                turns = rec["question"]
                # BFCL nests the messages in a list of turns; single-turn files have one.
                messages = turns[0] if turns and isinstance(turns[0], list) else turns
                functions = rec["function"] if isinstance(rec["function"], list) else [rec["function"]]
            except (json.JSONDecodeError, KeyError, TypeError, IndexError) as exc:
                raise unreadable(file, f"line {i}: {type(exc).__name__} {exc}") from None
            expected = None if "irrelevance" in category else answers.get(rec.get("id"))
            if expected is None and "irrelevance" not in category:
                raise unreadable(file, f"line {i}: no expected call for id {rec.get('id')!r}")
            cases.append(BfclCase(id=str(rec.get("id", f"{category}_{i}")), category=category, messages=messages,
                                  functions=functions, expected=expected))
    if not cases:
        raise unreadable(path, "no BFCL questions")
    return cases


_BFCL_TYPES = {"dict": "object", "float": "number", "tuple": "array", "any": None, "String": "string",
               "integer": "integer", "int": "integer", "list": "array", "bool": "boolean", "str": "string"}


def _openai_schema(schema: Any) -> Any:
    """BFCL writes Python type names (dict, float, tuple, any); OpenAI tool schemas want JSON Schema ones."""
    if isinstance(schema, dict):
        out = {}
        for k, v in schema.items():
            if k == "type" and isinstance(v, str):
                mapped = _BFCL_TYPES.get(v, v)
                if mapped is not None:
                    out[k] = mapped
            else:
                out[k] = _openai_schema(v)
        return out
    if isinstance(schema, list):
        return [_openai_schema(v) for v in schema]
    return schema


def tool_specs(case: BfclCase) -> list[dict]:
    return [{"type": "function", "function": {"name": f["name"], "description": f.get("description", ""),
                                              "parameters": _openai_schema(f.get("parameters", {}))}}
            for f in case.functions]


def _same(value: Any, accepted: Any) -> bool:
    if isinstance(value, str) and isinstance(accepted, str):
        # BFCL's checker also forgives case and surrounding spaces/punctuation in strings.
        norm = lambda s: re.sub(r"[\s,./\-_*^]", "", s).lower()
        return norm(value) == norm(accepted)
    if isinstance(value, bool) or isinstance(accepted, bool):
        return value is accepted
    if isinstance(value, (int, float)) and isinstance(accepted, (int, float)):
        return float(value) == float(accepted)
    if isinstance(value, list) and isinstance(accepted, list):
        return len(value) == len(accepted) and all(_same(v, a) for v, a in zip(value, accepted))
    if isinstance(value, dict) and isinstance(accepted, dict):
        return value.keys() == accepted.keys() and all(_same(value[k], accepted[k]) for k in value)
    return value == accepted


def ast_match(call_name: str, call_args: dict[str, Any], expected: dict[str, dict[str, list[Any]]],
              functions: list[dict[str, Any]]) -> tuple[bool, str]:
    """BFCL's AST check of one call against one expected call: same function, every required
    parameter given, no unknown parameter, each value among the accepted ones ("" = may be left out)."""
    (want_name, params), = expected.items()
    if call_name != want_name:
        return False, f"called {call_name}, expected {want_name}"
    schema = next((f for f in functions if f["name"] == want_name), {})
    required = set(schema.get("parameters", {}).get("required", []))
    for name in required:
        if name not in call_args:
            return False, f"missing required {name}"
    for name, value in call_args.items():
        if name not in params:
            return False, f"unknown parameter {name}"
        if not any(_same(value, ok) for ok in params[name] if ok != ""):
            return False, f"{name}={value!r} not among {params[name]!r}"
    for name, accepted in params.items():
        if name not in call_args and "" not in accepted and name not in required:
            return False, f"missing {name}"
    return True, ""
