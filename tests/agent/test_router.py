"""The router: unmistakable wording decides by rule, the rest by the embedding vote; no invented values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.agent.router import Router, fill_arguments, intent_rules
from tutor.agent.router_exemplars import EXEMPLARS

DATASETS = Path(__file__).resolve().parents[2] / "evals" / "datasets"


@pytest.mark.parametrize("message, tool", [
    ("hi!", "none"),
    ("thanks, that helped", "none"),
    ("switch to guide mode please", "none"),
    ("what did I tell you my name was?", "none"),
    ("how am I doing?", "progress"),
    ("quiz me on LSTMs", "quiz"),
    ("compare cnn-20261203-101500-ab12 and cnn-20261203-111500-cd34", "compare_runs"),
    ("why did cnn-20261203-101500-ab12 overfit?", "explain_run"),
    ("explain my last run", "explain_run"),
    ("compare my last two runs", "compare_runs"),
    ("train the cnn for 3 epochs", "run_experiment"),
    ("can you run the timeseries demo with window 12", "run_experiment"),
    ("what does the epochs setting of a CNN do?", "search_knowledge"),
    ("why does validation loss rise in general? don't run anything", "search_knowledge"),
    # small talk with model words, and questions about the tutor itself
    ("lol my training data is my cat walking on the keyboard", "none"),
    ("what's your name?", "none"),
    ("ok now train the rnn", "run_experiment"),
    # a run verb may open the second sentence; "can we" asks politely
    ("I'd love to see dropout at work. Could you run the overfitting demo?", "run_experiment"),
    ("can we train the cnn now?", "run_experiment"),
    ("can you explain why relu beats sigmoid in deep nets", "search_knowledge"),
    ("i dont get padding in convolutions, help", "search_knowledge"),
    ("according to the roadmap, which tools track my experiments?", "search_knowledge"),
    ("put my two most recent runs side by side", "compare_runs"),
    ("which topics have I already mastered?", "progress"),
    ("progres report pls", "progress"),
    # blind5's classes: quiz requests without "quiz", an order that starts with "do", a question
    # after a lead-in clause, two runs named by count, a run id to break down
    ("question me about the gates inside an LSTM", "quiz"),
    ("I think I finally get RAG, check me on it", "quiz"),
    ("do the backprop experiment", "run_experiment"),
    ("do CNNs need pooling layers?", "search_knowledge"),
    ("in the overfitting experiment, what is weight decay actually doing to the weights?", "search_knowledge"),
    ("I changed the learning rate between my last two runs; which setting worked better?", "compare_runs"),
    ("was my second try any better than the first one?", "compare_runs"),
    ("break down timeseries-20261202-140501-33aa for me, did it beat the naive forecast?", "explain_run"),
    ("check the paper notes: what did the ResNet paper say about depth?", "search_knowledge"),
])
def test_intent_rules(message, tool):
    assert intent_rules(message) == tool


def test_search_arguments_are_the_message_and_an_explicit_feed():
    assert fill_arguments("search_knowledge", " what is LoRA? ") == {"query": "what is LoRA?"}
    assert fill_arguments("search_knowledge", "what does the roadmap say about GPUs") == {
        "query": "what does the roadmap say about GPUs", "feed": "roadmap"}


def test_quiz_topic_comes_from_the_roadmap_topics():
    assert fill_arguments("quiz", "quiz me on LSTMs") == {"topic": "rnn"}
    assert fill_arguments("quiz", "test me on LoRA") == {"topic": "fine-tuning"}
    assert fill_arguments("quiz", "quiz me") == {}
    assert fill_arguments("quiz", "quiz me on large language models") == {"topic": "llm"}  # plural alias
    assert fill_arguments("quiz", "quiz on nlp basics") == {"topic": "nlp"}  # "basics" qualifies NLP


def test_a_quiz_topic_described_in_words_is_found_by_meaning(agent_env):
    router = Router()
    described = router.route("quiz me on how the error signal flows backwards to update the weights")
    assert described.tool == "quiz" and described.arguments == {"topic": "backpropagation"}
    # Left to the tutor: no topic is made up.
    assert router.route("quiz me on whatever topic you think I need most").arguments == {}


def test_embedding_vote_sends_unseen_wording_to_the_right_tool(agent_env):
    router = Router()
    assert router.route("yo what's up").tool == "none"
    decision = router.route("Could you explain what a residual connection is")
    assert decision.tool == "search_knowledge" and decision.arguments == {
        "query": "Could you explain what a residual connection is"}
    assert 0 <= decision.latency_s < 5


def test_a_run_described_instead_of_named_finds_its_recipe_by_meaning(agent_env):
    router = Router()
    decision = router.route("I want to see for myself how a wider hidden layer fits a curve better, can you run that?")
    assert decision.tool == "run_experiment" and decision.arguments == {"kind": "mlp-uat"}
    # Run-worded but about the learner's own runs: not matched to a recipe.
    assert router.route("explain my latest experiment pls").tool == "explain_run"


def test_request_without_a_recipe_is_not_an_experiment(agent_env):
    # Nothing to run was named: the tutor asks rather than guessing a recipe.
    decision = Router().route("start an experiment")
    assert decision.tool in ("run_experiment", "search_knowledge")
    assert "kind" not in decision.arguments


def test_router_exemplars_share_no_message_with_the_eval_sets():
    def norm(text: str) -> str:
        return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())

    exemplars = {norm(m) for ms in EXEMPLARS.values() for m in ms}
    for path in sorted(DATASETS.glob("routing*.jsonl")):
        name = path.name
        messages = {norm(json.loads(line)["message"]) for line in path.read_text().splitlines() if line.strip()}
        assert not exemplars & messages, f"{name} shares {exemplars & messages}"


@pytest.mark.parametrize("message, scope", [
    ("what does dropout do?", "concept"),
    ("What is LoRA?", "concept"),
    ("how does QLoRA work", "concept"),
    ("what does batch_first do in nn.LSTM?", "api"),
    ("What output shape does Conv2D(32, (3, 3)) give?", "api"),
    ("how do I build a LoraConfig", "api"),
    ("what does torch.nn.Dropout do", "api"),
    ("which argument of the keras fit method sets the batch size", "api"),
])
def test_conceptual_and_api_questions_are_told_apart(message, scope):
    from tutor.agent.router import question_scope

    assert question_scope(message) == scope


def test_conceptual_questions_are_answered_from_explanations_only():
    from knowledge.citation import Citation
    from tutor.agent.scope import ExplanationsOnly

    hits = [Citation(text=f"t{i}", source=f"{f}:{i}", feed=f) for i, f in enumerate(["docs", "papers", "docs", "roadmap", "user"])]
    view = ExplanationsOnly(lambda q, top_k, feed, **kw: hits[:top_k])
    assert [h.feed for h in view.search("what is dropout", top_k=2)] == ["papers", "roadmap"]
    assert [h.feed for h in view.search("what is dropout", top_k=5)] == ["papers", "roadmap", "user"]


def test_two_part_questions_are_searched_part_by_part():
    from knowledge.citation import Citation
    from tutor.agent.scope import ExplanationsOnly, question_parts

    assert question_parts("What does backpropagation do, and how does dropout fight overfitting?") == [
        "What does backpropagation do", "how does dropout fight overfitting"]
    assert question_parts("what does dropout do?") == ["what does dropout do?"]

    def search(q, top_k, feed, **kw):
        name = "backprop" if "backprop" in q else "dropout"
        return [Citation(text=f"{name} {i}", source=f"paper:{name}{i}", feed="papers",
                         section="Roadmap links" if i == 0 else "Key idea") for i in range(top_k)]

    hits = ExplanationsOnly(search).search("What does backpropagation do, and how does dropout fight overfitting?", top_k=4)
    assert [h.source for h in hits] == ["paper:backprop1", "paper:dropout1", "paper:backprop2", "paper:dropout2"]
