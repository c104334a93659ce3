"""The experiments suite on the quickest recipe: the bar is checked and two same-seed runs agree."""

from __future__ import annotations

import json

from evals.__main__ import main
from evals.experiments import BARS


def test_backprop_meets_its_bar_and_is_reproducible(tmp_path):
    assert main(["experiments", "--recipes", "backprop", "--out", str(tmp_path), "--no-gate", "--no-progress"]) == 0
    report = json.loads((tmp_path / "experiments.json").read_text())
    (item,) = report["items"]
    assert item["meets_bar"] is True and item["reproducible"] is True
    assert item["metrics"]["max_grad_diff"] < 1e-12
    assert report["metrics"] == {"bar_rate": 1.0, "reproducible_rate": 1.0}


def test_every_bar_names_a_registered_recipe():
    import tutor.lab.recipes  # noqa: F401
    from tutor.lab.base import RECIPES

    assert set(BARS) <= set(RECIPES)
    for kind, (params, _, _) in BARS.items():
        RECIPES[kind].Params(**params)  # the short settings are valid parameters
