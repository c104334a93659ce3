"""Arguments come only from the learner's words: numbers next to names, listed choices, flags."""

from __future__ import annotations

import pytest

from tutor.agent.arguments import detect_kind, extract_params, run_ids, search_feed, stated
from tutor.lab.runner import get_recipe


def params(message: str) -> dict:
    kind = detect_kind(message)
    assert kind is not None, message
    return {"kind": kind, **extract_params(message, get_recipe(kind).Params, kind)}


@pytest.mark.parametrize("message, expected", [
    ("train the CNN on digits for 3 epochs with dropout 0.3 and explain the curve",
     {"kind": "cnn", "epochs": 3, "dropout": 0.3}),
    ("show me a cnn", {"kind": "cnn"}),
    ("cnn, five epochs, learning rate of 1e-3, batch size 64", {"kind": "cnn", "epochs": 5, "lr": 0.001, "batch_size": 64}),
    ("convnet without data augmentation and 16 filters", {"kind": "cnn", "augmentation": False, "filters": 16}),
    ("train a GRU for 4 epocs", {"kind": "rnn", "cell": "gru", "epochs": 4}),
    ("rnn with a plain rnn cell", {"kind": "rnn", "cell": "rnn"}),
    ("the overfiting demo with 20% label noise", {"kind": "overfitting", "label_noise": 0.2}),
    ("forecast sunspots 6 years ahead with 2 lstm layers", {"kind": "timeseries", "series": "sunspots", "horizon": 6,
                                                             "layers": 2}),
    ("compare sigmoid, tanh and relu activations, depth 12", {"kind": "activations",
                                                              "activations": ["sigmoid", "tanh", "relu"], "depth": 12}),
    ("backprop on the AND task in float32", {"kind": "backprop", "task": "and", "precision": "float32"}),
    ("universal approximation with widths 4, 16 and 64", {"kind": "mlp-uat", "widths": [4, 16, 64]}),
    # a full stop after a number; a schema field name; a joined list with an everyday word; a flag after its name
    ("Train the cnn with a learning rate of 0.5.", {"kind": "cnn", "lr": 0.5}),
    ("race the optimizers with lr_adam=1e-2", {"kind": "optimizers", "lr_adam": 0.01}),
    ("race adam and momentum on the ravine", {"kind": "optimizers", "problem": "ravine", "optimizers": ["adam", "momentum"]}),
    ("train a cnn with augmentaion on", {"kind": "cnn", "augmentation": True}),
    ("the overfitting demo with no label noise", {"kind": "overfitting", "label_noise": 0.0}),
    ("optimizer race with momentum coefficient 0.95", {"kind": "optimizers", "momentum": 0.95}),
    # hyphenated and doubly qualified counts; a per-optimizer learning rate said in words
    ("forecast the sunspots series with a 30-step window and 2 stacked lstm layers",
     {"kind": "timeseries", "series": "sunspots", "window": 30, "layers": 2}),
    ("optimizer race on rosenbrock, adam's learning rate 0.1", {"kind": "optimizers", "problem": "rosenbrock",
                                                                 "lr_adam": 0.1}),
])
def test_parameters_are_read_from_the_message(message, expected):
    assert params(message) == expected


def test_everyday_words_are_not_taken_as_choices():
    # "and" / "or" are backprop tasks, but here they are just English.
    assert params("run backprop and show me the gradients or the loss") == {"kind": "backprop"}


def test_nothing_is_invented_for_a_bare_request():
    for kind in ("cnn", "rnn", "timeseries", "overfitting"):
        assert params(f"please run the {kind} demo") == {"kind": kind}


def test_run_ids_and_feeds():
    assert run_ids("compare cnn-20261203-101500-ab12 with rnn-20261201-093000-9f3c") == [
        "cnn-20261203-101500-ab12", "rnn-20261201-093000-9f3c"]
    assert search_feed("what does the roadmap say about GPUs?") == "roadmap"
    assert search_feed("in the paper notes, what is LoRA?") == "papers"
    assert search_feed("per the docs, what does batch_first do") == "docs"
    assert search_feed("look in the research papers: why does batch norm help?") == "papers"
    assert search_feed("what is dropout?") is None


def test_stated_accepts_only_values_the_message_gives():
    message = "train the cnn for four epochs with dropout of 30% using sgd, no augmentation"
    assert stated(4, message, "epochs") and stated(0.3, message, "dropout")
    assert stated("sgd", message, "optimizer") and stated(False, message, "augmentation")
    assert not stated(0.001, message, "lr")  # a plausible default the learner never gave
    assert not stated("adam", message, "optimizer")
    assert stated(["sgd", "adam"], "race sgd and adam", "optimizers")
    assert not stated(["sgd", "adam"], "race sgd", "optimizers")
