"""The tools suite: its datasets are valid against the real tool schemas, and its scoring is exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.tools import RoutingCase, load_dataset, score
from tutor.agent.router import TOOLS
from tutor.agent.topics import TOPIC_IDS
from tutor.errors import TutorError
from tutor.lab.runner import get_recipe

SETS = sorted((Path(__file__).resolve().parents[2] / "evals" / "datasets").glob("routing*.jsonl"))


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_every_routing_set_is_valid_against_the_tools(path):
    cases = load_dataset(path)
    assert len(cases) >= 60 and len({c.id for c in cases}) == len(cases)
    for case in cases:
        assert case.tool in TOOLS, case.id
        if case.tool == "run_experiment":
            args = dict(case.arguments)
            # Real parameter names (values may be out of range on purpose: the tool then refuses them).
            assert set(args) - {"kind"} <= set(get_recipe(args["kind"]).Params.model_fields), case.id
        if case.tool == "quiz" and case.arguments:
            assert case.arguments["topic"] in TOPIC_IDS
        if case.tool == "search_knowledge":
            assert case.arguments["query"] == case.message


def test_scoring_counts_tools_arguments_and_inventions():
    cases = [RoutingCase(id="1", message="train cnn 3 epochs", tool="run_experiment", arguments={"kind": "cnn", "epochs": 3}),
             RoutingCase(id="2", message="hi", tool="none"),
             RoutingCase(id="3", message="what is lora", tool="search_knowledge", arguments={"query": "what is lora"})]
    answers = {"train cnn 3 epochs": ("run_experiment", {"kind": "cnn", "epochs": 3, "lr": 0.1}),
               "hi": ("search_knowledge", {"query": "hi"}),
               "what is lora": ("search_knowledge", {"query": "ignored: the query is the message"})}
    m = score(lambda msg: answers[msg], cases)["metrics"]
    assert m["tool_accuracy"] == pytest.approx(2 / 3)
    assert m["argument_exact_match"] == pytest.approx(1 / 2)  # the cnn call invented lr
    assert m["invented_argument_rate"] == pytest.approx(1 / 3) and m["no_call_rate"] == 0.0


def test_a_broken_dataset_line_is_one_error(tmp_path):
    bad = tmp_path / "r.jsonl"
    bad.write_text('{"id": "1", "message": "hi", "tool": "none"}\n{"id": 2}\n')
    with pytest.raises(TutorError, match="line 2"):
        load_dataset(bad)


@pytest.mark.slow
def test_bfcl_files_are_scored_on_the_runtimes_own_tool_calls(tmp_path):
    """One irrelevance item and one simple item of the hand-made fixture, the tiny model, a real chat."""
    import json
    import shutil

    from evals.__main__ import main

    src = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "bfcl"
    data = tmp_path / "bfcl"
    (data / "possible_answer").mkdir(parents=True)
    for name in ("BFCL_v3_simple.json", "BFCL_v3_irrelevance.json"):
        first = (src / name).read_text().splitlines()[0]
        (data / name).write_text(first + "\n")
        if (src / "possible_answer" / name).exists():
            (data / "possible_answer" / name).write_text((src / "possible_answer" / name).read_text().splitlines()[0] + "\n")
    shutil.copy(src / "README.md", data)
    rc = main(["tools", "--dataset", str(data), "--model", "smollm2-135m", "--out", str(tmp_path), "--no-gate",
               "--no-progress"])
    report = json.loads((tmp_path / "tools.json").read_text())
    assert rc == 0 and report["format"] == "bfcl" and report["n"] == 2
    simple = next(i for i in report["items"] if i["category"] == "simple")
    irrelevant = next(i for i in report["items"] if i["category"] == "irrelevance")
    assert irrelevant["ok"] == (irrelevant["calls"] == []) and report["metrics"]["no_call_rate"] == float(irrelevant["ok"])
    assert report["metrics"]["ast_accuracy"] == float(simple["ok"])
