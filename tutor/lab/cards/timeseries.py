"""The `timeseries` recipe's card: what it is and the parameters it takes (training code: recipes/timeseries.py).

Imports no torch, so listing and validating recipes stays fast in the launching process.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tutor.lab.base import RecipeCard, RecipeParams


class TimeseriesParams(RecipeParams):
    series: Literal["co2", "sunspots"] = Field("co2", description="Real series from statsmodels: monthly CO2 or yearly sunspots.")
    window: int = Field(24, ge=4, le=120, description="Past steps the LSTM sees per forecast (24 = two years of CO2).")
    horizon: int = Field(1, ge=1, le=12, description="Steps ahead to forecast (1 = next month/year; up to 12, all predicted at once).")
    hidden: int = Field(32, ge=4, le=256, description="LSTM hidden units.")
    layers: int = Field(1, ge=1, le=3, description="Stacked LSTM layers.")
    epochs: int = Field(40, ge=1, le=500, description="Passes over the training windows.")
    lr: float = Field(0.01, gt=0.0, le=1.0, description="Adam learning rate.")
    batch_size: int = Field(32, ge=1, le=1024, description="Windows per gradient step.")
    val_fraction: float = Field(0.15, ge=0.05, le=0.3, description="Share of the series (after the training years) used to validate.")
    test_fraction: float = Field(0.15, ge=0.05, le=0.3, description="Share at the end of the series held out for the final test.")


CARD = RecipeCard(
    name="timeseries",
    summary="Forecast a real series (CO2 or sunspots) with an LSTM and check it beats the naive forecast.",
    Params=TimeseriesParams,
    module="tutor.lab.recipes.timeseries",
    primary_metric="test_mae",
    higher_is_better=False,
)
