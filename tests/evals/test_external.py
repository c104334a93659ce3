"""evals.external: format detection, the readers, and BFCL's AST match, on small files whose content is known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.external import (
    ast_match,
    detect,
    read_bfcl,
    read_halueval,
    read_mlquestions,
    read_mmlu,
    read_mrbench,
    resolve,
)
from tutor.errors import TutorError

REPO = Path(__file__).resolve().parents[2]
BFCL = REPO / "evals" / "datasets" / "bfcl"
EXTERNAL = REPO.parent / "shared" / "external"

MMLU = '''question,choices,answer,error_type,correct_answer,potential_reason,source
"Which is a convex loss?","['MSE', 'zero-one', 'both', 'neither']",0,OK,,,x
"Bad one","['a', 'b', 'c', 'd']",1,Bad question clarity,,,x
"Fixed one","['a', 'b', 'c', 'd']",3,Wrong groundtruth,2,,x
'''


def test_mmlu_keeps_ok_rows_and_fixed_answers_and_drops_flagged_ones(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(MMLU, encoding="utf-8")
    assert detect(path) == "mmlu"
    questions, counts = read_mmlu(path)
    assert [(q.question, q.answer) for q in questions] == [("Which is a convex loss?", 0), ("Fixed one", 2)]
    assert counts == {"rows": 3, "ok": 1, "fixed": 1, "dropped": 1}
    assert questions[0].choices == ["MSE", "zero-one", "both", "neither"]


def test_each_public_format_is_detected_and_read(tmp_path):
    tsv = tmp_path / "q.tsv"
    tsv.write_text("\tinput_text\ttarget_text\tindexes\n7\tA passage about SGD.\tWhat is SGD\t7\n", encoding="utf-8")
    assert detect(tsv) == "mlquestions" and read_mlquestions(tsv)[0].question == "What is SGD"
    halu = tmp_path / "h.json"
    halu.write_text(json.dumps({"knowledge": "k", "question": "q", "right_answer": "r", "hallucinated_answer": "h"}) + "\n")
    assert detect(halu) == "halueval" and read_halueval(halu)[0].right_answer == "r"
    mrb = tmp_path / "mr.json"
    mrb.write_text(json.dumps([{"conversation_id": "c1", "conversation_history": "...", "Ground_Truth_Solution": "x\n 9",
                                "anno_llm_responses": {"T": {"response": "It is 9.", "annotation": {
                                    "Revealing_of_the_Answer": "Yes (and the answer is correct)",
                                    "Providing_Guidance": "No"}}}}]))
    assert detect(mrb) == "mrbench"
    (reply,) = read_mrbench(mrb)
    assert reply.id == "c1:T" and reply.revealed.startswith("Yes")
    assert detect(BFCL / "BFCL_v3_simple.json") == "bfcl" and detect(BFCL) == "bfcl"


def test_an_unknown_or_broken_file_is_one_line_naming_the_accepted_formats(tmp_path):
    for name, text in (("x.txt", "hello"), ("x.csv", "a,b\n1,2\n"), ("x.json", "{broken"), ("x.json", '{"a": 1}')):
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(TutorError) as err:
            detect(path)
        assert "accepted formats" in str(err.value) and "\n" not in str(err.value)


def test_a_suite_refuses_another_suites_format_and_says_which_suite_reads_it(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(MMLU, encoding="utf-8")
    with pytest.raises(TutorError, match="knowledge"):
        resolve(path, None, "retrieval", ("project", "mlquestions"))
    assert resolve(None, None, "retrieval", ("project",)) == "project"


def test_bfcl_fixture_reads_simple_and_irrelevance_items():
    cases = read_bfcl(BFCL)
    simple = [c for c in cases if c.category == "simple"]
    irrelevant = [c for c in cases if c.category == "irrelevance"]
    assert len(simple) >= 8 and len(irrelevant) >= 4
    assert all(c.expected for c in simple) and all(c.expected is None for c in irrelevant)
    assert simple[0].messages[0]["role"] == "user"


def test_bfcl_without_possible_answer_is_refused(tmp_path):
    (tmp_path / "BFCL_v3_simple.json").write_text((BFCL / "BFCL_v3_simple.json").read_text())
    with pytest.raises(TutorError, match="possible_answer"):
        read_bfcl(tmp_path / "BFCL_v3_simple.json")


def test_ast_match_follows_bfcl_rules():
    case = next(c for c in read_bfcl(BFCL) if c.id == "simple_0")  # cnn, 5 epochs, lr optional
    (expected,) = case.expected
    assert ast_match("run_experiment", {"kind": "cnn", "epochs": 5}, expected, case.functions) == (True, "")
    assert ast_match("run_experiment", {"kind": "CNN", "epochs": 5.0, "lr": 0.001}, expected, case.functions)[0]
    assert not ast_match("run_experiment", {"kind": "cnn"}, expected, case.functions)[0]  # epochs was asked for
    assert "not among" in ast_match("run_experiment", {"kind": "rnn", "epochs": 5}, expected, case.functions)[1]
    assert "unknown parameter" in ast_match("run_experiment", {"kind": "cnn", "epochs": 5, "seed": 1},
                                            expected, case.functions)[1]
    assert not ast_match("quiz", {"topic": "cnn"}, expected, case.functions)[0]


@pytest.mark.skipif(not EXTERNAL.is_dir(), reason="../shared/external is not on this machine")
def test_the_shared_public_sets_are_read_from_their_path():
    questions, counts = read_mmlu(EXTERNAL / "mmlu-redux_machine_learning.csv")
    assert counts["ok"] == 89 and len(questions) == counts["ok"] + counts["fixed"]
    assert len(read_mrbench(EXTERNAL / "MRBench_V1.json")) == 1589
    assert len(read_halueval(EXTERNAL / "halueval_qa_one-turn.json")) == 500
    assert len(read_mlquestions(EXTERNAL / "mlquestions_test.tsv")) == 1500
