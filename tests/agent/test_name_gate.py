"""The name check of the relevance gate: names found by shape, matched loosely, checked on the real corpus."""

from __future__ import annotations

import pytest

from tutor.agent.name_gate import check_names, is_specific, mentions, names


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When is Llama 5 going to be released?", ["Llama 5"]),
        ("What exact training data mix did OpenAI use for GPT-4o?", ["OpenAI", "GPT-4o"]),
        ("Does torch.nn.LayerNorm behave differently in train and eval mode?", ["LayerNorm"]),
        ("Which models does DPO need, compared with PPO-based RLHF?", ["DPO", "PPO", "RLHF"]),
        ("What's the size of GPT-4's context?", ["GPT-4"]),
        # Arguments and numbers are not versions or names.
        ("Could you run the CNN with SGD, 32 filters and dropout of 0.3?", ["CNN", "SGD"]),
        ("an Embedding(10000, 128) layer has how many weights?", []),
        ("is a 3x3 kernel with lr 1e-3 and 405B tokens too much?", []),
        # Plain capitalised words are not names here ("Mom", a sentence's first word).
        ("Explain the Transformer to my Mom", []),
    ],
)
def test_names_are_found_by_their_shape(question, expected):
    assert names(question) == expected


def test_versions_and_mixed_case_names_are_specific_abbreviations_are_not():
    assert is_specific("Llama 5") and is_specific("GPT-4o") and is_specific("NeRF") and is_specific("LayerNorm")
    assert not is_specific("UAT") and not is_specific("AWS")  # learners coin abbreviations


def test_mentions_ignores_case_hyphens_and_spacing_but_not_word_edges():
    assert mentions("GPT-4o", "the gpt 4o system card")
    assert mentions("ResNet50", "a ResNet-50 backbone") and mentions("ResNet-50", "resnet50 weights")
    assert mentions("GANs", "a GAN has two networks")
    assert not mentions("NeRF", "learner features")  # never across word edges
    assert not mentions("Llama 5", "LLaMA 65B")


def _searches(retriever, feed):
    from tutor.agent.ask import retrieve

    return [lambda q, k, f=f: retrieve(q, top_k=k, feed=f, retriever=retriever) for f in dict.fromkeys([feed, None])]


def test_a_name_nothing_mentions_is_missing_on_the_real_corpus(agent_env):
    from knowledge.retrieve import get_retriever
    from tutor.agent.ask import retrieve

    retriever = get_retriever(agent_env)
    question = "When is Llama 5 going to be released?"
    passages = retrieve(question, top_k=5, feed=None, retriever=retriever)
    check = check_names(question, passages, _searches(retriever, None))
    assert check.missing == ["Llama 5"] and check.added == []
    # What the tutor knows beyond its sources counts (the lab trains on the CO2 series).
    assert check_names(question, passages, _searches(retriever, None), known=["Llama 5 preview"]).missing == []


def test_a_passage_naming_what_the_view_missed_joins_from_the_wider_view(agent_env):
    from knowledge.retrieve import get_retriever
    from tutor.agent.ask import retrieve

    retriever = get_retriever(agent_env)
    question = "What co-occurrence statistics does GloVe fit?"
    passages = retrieve(question, top_k=5, feed="roadmap", retriever=retriever)
    assert not any(mentions("GloVe", f"{p.title} {p.section} {p.text}") for p in passages)
    check = check_names(question, passages, _searches(retriever, "roadmap"))
    assert check.missing == []
    assert [p.title for p in check.added] == ["GloVe: Global Vectors for Word Representation"]
    # A passage that only mentions the name, without being about it, is not added.
    question = "How does GoogLeNet use 1x1 convolutions?"
    passages = retrieve(question, top_k=5, feed="roadmap", retriever=retriever)
    check = check_names(question, passages, _searches(retriever, "roadmap"))
    assert check.missing == [] and check.added == []


def test_ask_says_which_name_its_sources_do_not_cover_without_calling_a_model(agent_env):
    from tutor.agent.ask import ask

    answer = ask("What long-context results did the Mamba-3 paper report?", llm=object())
    assert not answer.grounded and answer.model == "none"
    assert answer.answer.startswith("My sources don't cover Mamba-3")


def test_a_later_part_that_cannot_stand_alone_keeps_the_question_whole(agent_env):
    from knowledge.retrieve import get_retriever
    from tutor.agent.scope import ExplanationsOnly, answer_parts

    view = ExplanationsOnly(get_retriever(agent_env))
    whole = "What do BM25's k1 and b parameters control, and what are typical values?"
    assert answer_parts(whole, view, agent_env.ask_min_similarity) == [whole]
    two = "What does backpropagation do, and how does dropout fight overfitting?"
    assert answer_parts(two, view, agent_env.ask_min_similarity) == [
        "What does backpropagation do", "how does dropout fight overfitting"]
