"""The SFT data builder: run-time formats, decontamination, dedup/split, corrupt files."""

from __future__ import annotations

import json
import re

import pytest

from finetune import data
from finetune.data import ABSTAIN, BuildConfig, Item, Passage, build, check_contamination, load_items, ngrams
from tutor.agent import prompts
from tutor.errors import TutorError
from tutor.llm.toolcalls import parse_tool_calls

PASSAGES = [
    Passage(text=f"## Topic {i}\nThe layer `Conv2D({i}, (3, 3))` learns {i} local filters over the image. "
                 f"Dropout with rate 0.{i} zeroes activations at random during training. "
                 f"Weight decay {i}e-4 keeps the weights of model number {i} small.\n\n"
                 f"```python\nmodel.add(Dense({i}))\n```",
            source=f"paper:p{i}", title=f"Paper {i}", section=f"Key idea {i}")
    for i in range(1, 13)
]


@pytest.fixture
def built(tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "evals.jsonl").write_text(json.dumps({"question": "nothing shared with the synthetic corpus at all"}) + "\n")
    stats = build(tmp_path / "out", BuildConfig(abstain_every=2, guide_every=2, tool_items=24), passages=PASSAGES,
                  reference_dirs=[ref])
    items = load_items(tmp_path / "out" / "train.jsonl") + load_items(tmp_path / "out" / "val.jsonl")
    return stats, items, tmp_path / "out"


def _passages_of(item: Item) -> dict[int, str]:
    user = item.messages[1]["content"]
    blocks = re.split(r"\n\n(?=\[\d+\] )", user.split("\n\nQuestion:")[0])
    return {int(b[1 : b.index("]")]): b for b in blocks if b.startswith("[")}


def test_every_kind_is_built_in_the_tutors_formats(built):
    stats, items, out = built
    kinds = {it.kind for it in items}
    assert kinds == {"grounded", "abstain", "tool", "guide"}
    assert stats["train"] + stats["val"] == len(items)
    assert (out / "DATASET_CARD.md").read_text().count("8-gram") == 1
    for it in items:
        if it.kind in {"grounded", "abstain"}:
            assert it.messages[0]["content"] == prompts.TUTOR_SYSTEM.substitute()
        if it.kind == "guide":
            assert it.messages[0]["content"] == prompts.GUIDE_SYSTEM.substitute()


def test_grounded_answers_copy_the_cited_passage_and_end_with_markers(built):
    _, items, _ = built
    grounded = [it for it in items if it.kind == "grounded"]
    assert grounded
    for it in grounded:
        passages = _passages_of(it)
        answer = it.messages[-1]["content"]
        if answer.startswith("The passage gives this code"):
            n = int(re.search(r"\[(\d+)\]", answer).group(1))
            assert answer.split(":\n", 1)[1] in passages[n]
            continue
        for sentence, n in re.findall(r"(.+?) \[(\d+)\](?: |$)", answer):
            assert sentence.strip() in passages[int(n)], (sentence, it.id)


def test_abstentions_get_passages_from_other_sources(built):
    _, items, _ = built
    abstain = [it for it in items if it.kind == "abstain"]
    assert abstain
    for it in abstain:
        assert it.messages[-1]["content"] == ABSTAIN
        assert f"({it.source})" not in it.messages[1]["content"]
    # The tutor's system prompt tells the model exactly this sentence.
    assert ABSTAIN in prompts.TUTOR_SYSTEM.substitute()


def test_tool_turns_parse_as_calls_to_the_agents_tools(built):
    _, items, _ = built
    names = {spec["function"]["name"] for spec in json.loads(data.TOOL_SPECS_FILE.read_text())}
    tool = [it for it in items if it.kind == "tool"]
    assert tool and all(it.tools for it in tool)
    for it in tool:
        parsed = parse_tool_calls(it.messages[-1]["content"], names)
        assert len(parsed.calls) == 1 and not parsed.problems


def test_guide_replies_ask_and_do_not_repeat_the_passage(built):
    _, items, _ = built
    for it in (it for it in items if it.kind == "guide"):
        reply = it.messages[-1]["content"]
        assert reply.rstrip().endswith("?")
        assert not any(s in reply for s in data.prose_sentences(it.messages[1]["content"]))


def test_validation_holds_out_whole_sources(tmp_path, built):
    _, _, out = built
    train = load_items(out / "train.jsonl")
    val = load_items(out / "val.jsonl")
    assert {it.source for it in train if it.source}.isdisjoint({it.source for it in val if it.source})
    assert len({it.id for it in train + val}) == len(train) + len(val)  # deduplicated


def test_tool_specs_match_the_agents_tools():
    from tutor.agent.tools import openai_specs

    assert json.loads(data.TOOL_SPECS_FILE.read_text()) == json.loads(json.dumps(openai_specs()))


def test_an_item_overlapping_an_eval_set_fails_the_check_and_is_dropped(tmp_path):
    items = data.build_items(PASSAGES, BuildConfig(tool_items=0))
    victim = next(it for it in items if it.kind == "grounded")
    ref = tmp_path / "ref"
    ref.mkdir()
    # An eval question that shares 8 words in a row with one reply (case and punctuation differ).
    words = data.normalise(victim.messages[-1]["content"])[:8]
    (ref / "set.csv").write_text("question,answer\n\"" + " ".join(words).upper() + "!?\",x\n")
    grams, files = data.reference_ngrams([ref])
    assert files == [str(ref / "set.csv")]
    with pytest.raises(TutorError, match="overlap the eval or external sets"):
        check_contamination(items, grams)
    stats = build(tmp_path / "out", BuildConfig(tool_items=0), passages=PASSAGES, reference_dirs=[ref])
    assert stats["dropped_contaminated"] >= 1
    kept = load_items(tmp_path / "out" / "train.jsonl") + load_items(tmp_path / "out" / "val.jsonl")
    assert victim.id not in {it.id for it in kept}


def test_ngrams_are_normalised():
    assert ngrams("A b, C d e f g H!") == {("a", "b", "c", "d", "e", "f", "g", "h")}
    assert ngrams("too short") == set()


def test_a_corrupt_data_file_is_one_line(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(Item(id="x", kind="tool", question="q", messages=[{"role": "user", "content": "q"}]).model_dump_json()
                    + "\n{not json\n")
    with pytest.raises(TutorError) as err:
        load_items(path)
    assert f"{path}:2 is not a fine-tuning item" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(TutorError, match="does not exist"):
        load_items(tmp_path / "missing.jsonl")


@pytest.mark.slow
def test_the_real_corpus_builds_clean_against_the_eval_and_external_sets(tmp_path):
    stats = build(tmp_path / "out")
    assert stats["train"] > 300 and stats["val"] > 20
    assert set(stats["train_kinds"]) == {"grounded", "abstain", "tool", "guide"}
    assert any("evals/datasets" in f for f in stats["reference_files"])
