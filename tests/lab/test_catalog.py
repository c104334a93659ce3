"""The catalog: recipes described, validated and parsed by their own pydantic models, without torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tutor.errors import TutorError
from tutor.lab.catalog import (
    cards,
    describe_param,
    get_recipe,
    param_spec,
    parse_cli_params,
    validate_params,
)


def _entry(kind: str, name: str) -> dict:
    return next(p for p in param_spec(kind) if p["name"] == name)


def test_the_spec_comes_from_each_model_schema():
    epochs = _entry("cnn", "epochs")
    assert (epochs["type"], epochs["min"], epochs["max"], epochs["default"]) == ("int", 1, 200, 15)
    assert describe_param(epochs) == "an integer between 1 and 200"
    assert _entry("rnn", "cell")["choices"] == ["lstm", "gru", "rnn"]
    assert _entry("cnn", "image_size")["choices"] == [8, 28]
    widths = _entry("mlp-uat", "widths")  # a default_factory list: absent from the schema, read from the model
    assert (widths["type"], widths["item_type"], widths["default"]) == ("list", "int", [1, 4, 16, 64])
    momentum = _entry("optimizers", "momentum")
    assert momentum["max_exclusive"] and describe_param(momentum) == "a number at least 0 and less than 1"
    assert _entry("activations", "activations")["choices"] == ["sigmoid", "tanh", "relu", "gelu"]


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("nope", {}, "unknown experiment 'nope'; choose one of: .*cnn.*rnn"),
        ("cnn", {"epochs": 0}, r"epochs must be an integer between 1 and 200 \(got 0\)"),
        ("cnn", {"epochs": 10**6}, r"epochs must be an integer between 1 and 200 \(got 1000000\)"),
        ("cnn", {"lr": -0.1}, r"lr must be a number greater than 0 and at most 1 \(got -0.1\)"),
        ("cnn", {"epochs": "many"}, r"epochs must be an integer .*got 'many'"),
        ("cnn", {"optimiser": "adam"}, "unknown parameter 'optimiser' for cnn; valid parameters: .*optimizer"),
        ("rnn", {"cell": "transformer"}, "cell must be one of lstm, gru, rnn"),
        ("mlp-uat", {"widths": [0, 4]}, "widths: every width must be between 1 and 1024"),
    ],
)
def test_bad_params_are_one_clear_sentence(kind, params, message):
    with pytest.raises(TutorError, match=message):
        validate_params(kind, params)


def test_a_validated_model_is_not_validated_again():
    params = validate_params("cnn", {"epochs": 3})
    assert validate_params("cnn", params) is params


def test_the_command_line_is_read_by_the_recipe_model():
    raw = parse_cli_params("cnn", ["--epochs", "3", "--batch-size", "64", "--no-augmentation", "--image-size", "28"])
    params = validate_params("cnn", raw)
    assert (params.epochs, params.batch_size, params.augmentation, params.image_size) == (3, 64, False, 28)
    assert validate_params("cnn", parse_cli_params("cnn", ["--augmentation"])).augmentation is True
    uat = validate_params("mlp-uat", parse_cli_params("mlp-uat", ["--widths", "64,4,16", "--function=sin"]))
    assert (uat.widths, uat.function) == ([4, 16, 64], "sin")
    acts = validate_params("activations", parse_cli_params("activations", ["--activations", "relu,gelu"]))
    assert acts.activations == ["relu", "gelu"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--wings", "2"], "unknown parameter 'wings' for cnn; valid parameters: seed, epochs"),
        (["3"], "unexpected argument '3'; give parameters as --name value"),
        (["--epochs"], "--epochs: expected one argument"),
        (["--augmentation", "false"], "a true/false parameter is a flag: --augmentation or --no-augmentation"),
    ],
)
def test_bad_command_lines_are_one_sentence(args, message):
    with pytest.raises(TutorError, match=message):
        parse_cli_params("cnn", args)


def test_listing_and_validating_never_import_torch():
    # The reason the cards exist: `tutor experiment list` must not pay for torch (seconds).
    code = ("import sys\nfrom tutor.lab.catalog import cards, param_spec, validate_params\n"
            "for kind in cards():\n    param_spec(kind); validate_params(kind, {})\n"
            "print(sorted(cards()), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("False"), out.stdout
    assert "'cnn'" in out.stdout and "'timeseries'" in out.stdout


def test_every_card_has_its_recipe_and_back():
    import tutor.lab.recipes  # noqa: F401  (the training code: imports torch)
    from tutor.lab.base import RECIPES

    for kind, card in cards().items():
        if kind.startswith("test-"):
            continue
        recipe = RECIPES[kind]
        assert recipe.__module__ == card.module and recipe.card is card and recipe.Params is card.Params
        assert (recipe.name, recipe.primary_metric, recipe.chance_accuracy) == (kind, card.primary_metric,
                                                                                 card.chance_accuracy)
    assert get_recipe("cnn").chance_accuracy == 0.1 and get_recipe("backprop").higher_is_better is False
