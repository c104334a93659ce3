"""The `rnn` recipe's card: what it is and the parameters it takes (training code: recipes/rnn.py).

Imports no torch, so listing and validating recipes stays fast in the launching process.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from tutor.lab.base import RecipeCard, RecipeParams, pin_roadmap_fields

KERAS_FIXED = {"cell": "lstm", "embedding_dim": 64, "hidden_size": 64, "lr": 0.001}


class RNNParams(RecipeParams):
    epochs: int = Field(5, ge=1, le=200, description="Passes over the training sentences.")
    lr: float = Field(0.003, gt=0, le=1.0, description="Adam learning rate.")
    batch_size: int = Field(64, ge=1, le=2048, description="Sentences per gradient step.")
    cell: Literal["lstm", "gru", "rnn"] = Field("lstm", description="Recurrent cell: LSTM (roadmap), GRU, or a vanilla RNN.")
    embedding_dim: int = Field(64, ge=2, le=512, description="Size of each word vector (roadmap: 64).")
    hidden_size: int = Field(64, ge=2, le=512, description="Units in the recurrent layer (roadmap: 64).")
    sentences: int = Field(6000, ge=500, le=50_000, description="Generated sentences, split 65/15/20 train/val/test.")
    framework: Literal["torch", "keras"] = Field("torch", description="torch, or the roadmap's Keras code on Keras 3.")

    @model_validator(mode="after")
    def _keras_runs_the_roadmap_code(self) -> RNNParams:
        return pin_roadmap_fields(self, KERAS_FIXED, "LSTM", "it fixes an LSTM with 64-wide embedding and state, adam at 0.001")


CARD = RecipeCard(
    name="rnn",
    summary="The roadmap's LSTM text classifier on sentences where word order matters, vs a bag-of-words baseline.",
    Params=RNNParams,
    module="tutor.lab.recipes.rnn",
    primary_metric="test_accuracy",
    higher_is_better=True,
    chance_accuracy=0.5,
)
