"""evals.common (uniform report, --json, --out, gates, Ctrl-C) and evals.compare, through real suite runs
that need no model: the pedagogy judge on a tiny MRBench-format file and the HaluEval support judge."""

from __future__ import annotations

import json

import pytest

from evals.__main__ import main
from evals.common import EvalRun, agreement, cohen_kappa, parser
from tutor.errors import TutorError

KEYS = {"suite", "model", "adapter", "dataset", "n", "metrics", "items", "passed"}


def _reply(i, text, revealed, guidance, solution="Half is 5.\n 10"):
    return {"conversation_id": f"c{i}", "conversation_history": "Student: I think it is 12.",
            "Ground_Truth_Solution": solution,
            "anno_llm_responses": {"T": {"response": text, "annotation": {
                "Revealing_of_the_Answer": revealed, "Providing_Guidance": guidance}}}}


@pytest.fixture
def mrbench(tmp_path):
    rows = [_reply(1, "The answer is 10.", "Yes (and the answer is correct)", "No"),
            _reply(2, "What is half of the steps? Try again.", "No", "Yes"),
            _reply(3, "Good try! Check your second step?", "No", "Yes"),
            _reply(4, "You got 100, which is wrong.", "No", "No")]
    path = tmp_path / "mrbench.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_a_run_writes_the_uniform_report_as_json_and_markdown_and_prints_json(mrbench, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["pedagogy", "--dataset", str(mrbench), "--out", str(out), "--json", "--no-gate", "--no-progress"]) == 0
    printed = json.loads(capsys.readouterr().out)
    written = json.loads((out / "pedagogy.json").read_text())
    assert KEYS <= set(written) and printed == written
    assert written["n"] == 4 and written["format"] == "mrbench" and written["passed"] is None
    # Judge: leak when the final answer "10" stands alone (not in "100"); all four agree with the labels.
    assert [i["leaked"] for i in written["items"]] == [True, False, False, False]
    assert written["metrics"]["leak_accuracy"] == 1.0 and written["metrics"]["leak_kappa"] == 1.0
    assert "| leak (final number)" in (out / "pedagogy.md").read_text()


def test_the_gate_names_each_metric_below_its_minimum_and_exits_1(mrbench, tmp_path, capsys):
    thresholds = tmp_path / "t.toml"
    thresholds.write_text('[pedagogy-mrbench]\nleak_kappa = 0.5\nguidance_kappa = 1.01\nguidance_accuracy = 1.01\n')
    rc = main(["pedagogy", "--dataset", str(mrbench), "--out", str(tmp_path / "o"), "--thresholds", str(thresholds),
               "--no-progress"])
    err = capsys.readouterr().err.splitlines()
    below = [line for line in err if line.startswith("below threshold")]
    assert rc == 1 and len(below) == 2 and any("guidance_kappa" in line for line in below)
    report = json.loads((tmp_path / "o" / "pedagogy.json").read_text())
    assert report["passed"] is False and len(report["gate"]) == 2
    thresholds.write_text('[pedagogy-mrbench]\nleak_kappa = 0.5\n')
    assert main(["pedagogy", "--dataset", str(mrbench), "--out", str(tmp_path / "o"), "--thresholds", str(thresholds),
                 "--no-progress"]) == 0


def test_ctrl_c_keeps_the_items_already_scored(tmp_path, capsys):
    args = parser("demo", "demo").parse_args(["--out", str(tmp_path), "--no-progress"])
    run = EvalRun("demo", args, model="m", dataset=None)

    def one(i):
        if i == 3:
            raise KeyboardInterrupt
        return {"id": i}

    run.score(range(10), one)
    assert run.finish({"kept": len(run.items)}) == 130
    report = json.loads((tmp_path / "demo.json").read_text())
    assert report["partial"] is True and [i["id"] for i in report["items"]] == [0, 1, 2] and report["passed"] is None
    assert "keeps the 3 items" in capsys.readouterr().err


def test_kappa_and_agreement_on_known_labels():
    assert cohen_kappa([1, 1, 0, 0], [1, 1, 0, 0]) == 1.0
    assert cohen_kappa([1, 0, 1, 0], [1, 1, 0, 0]) == 0.0
    a = agreement([True, True, False, False], [True, False, False, False])
    assert a["accuracy"] == 0.75 and a["precision"] == 0.5 and a["recall"] == 1.0


def test_halueval_support_judge_agreement(tmp_path):
    path = tmp_path / "h.json"
    rows = [{"knowledge": "The Oberoi Group is a hotel company with its head office in Delhi.",
             "question": "The Oberoi family's hotel company has its head office in what city?",
             "right_answer": "Delhi", "hallucinated_answer": "Mumbai, the financial capital of India."}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["faithfulness", "--dataset", str(path), "--out", str(tmp_path), "--no-gate", "--no-progress"]) == 0
    report = json.loads((tmp_path / "faithfulness.json").read_text())
    assert [i["new_words"] for i in report["items"]] == [True, False]
    assert report["metrics"]["new_words_accuracy"] == 1.0


def test_compare_prints_signed_deltas_per_metric(mrbench, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    main(["pedagogy", "--dataset", str(mrbench), "--out", str(a), "--no-gate", "--no-progress"])
    main(["pedagogy", "--dataset", str(mrbench), "--out", str(b), "--no-gate", "--no-progress", "--limit", "2"])
    capsys.readouterr()
    assert main(["compare", str(a), str(b / "pedagogy.json")]) == 0
    out = capsys.readouterr().out
    assert "| leak_accuracy | 1.000 | 1.000 | +0.000 |" in out and "## pedagogy" in out
    with pytest.raises(TutorError, match="no eval report"):
        main(["compare", str(a), str(tmp_path / "missing")])


def test_bad_options_are_one_line_errors(tmp_path, monkeypatch):
    from tutor.config import get_settings

    # main() sets TUTOR_* variables for --model/--adapter: restore them after this test.
    for name in ("TUTOR_ADAPTER_PATH", "TUTOR_LLM_PRESET"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(TutorError, match="unknown model preset"):
        main(["pedagogy", "--model", "nope", "--no-gate"])
    with pytest.raises(TutorError, match="knowledge suite needs --dataset"):
        main(["knowledge", "--no-gate"])
    with pytest.raises(TutorError, match="--limit"):
        main(["tools", "--limit", "0", "--no-gate"])
    # An adapter without its GGUF LoRA form cannot be scored on llama.cpp (it would be the base model).
    (tmp_path / "peft-only").mkdir()
    with pytest.raises(TutorError, match="has no adapter.gguf"):
        main(["tools", "--adapter", str(tmp_path / "peft-only"), "--no-gate"])
    get_settings.cache_clear()  # the next test reads the restored variables
