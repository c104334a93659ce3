"""The `cnn` recipe's card: what it is and the parameters it takes (training code: recipes/cnn.py).

Imports no torch, so listing and validating recipes stays fast in the launching process.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from tutor.lab.base import RecipeCard, RecipeParams, pin_roadmap_fields

# What the roadmap's Keras code fixes: a learner who asks for the Keras version gets
# exactly that code, so these parameters cannot change under framework=keras.
KERAS_FIXED = {"filters": 32, "dropout": 0.0, "optimizer": "adam", "lr": 0.001, "image_size": 28}


class CNNParams(RecipeParams):
    epochs: int = Field(15, ge=1, le=200, description="Passes over the 1,167 training images.")
    lr: float = Field(0.01, gt=0, le=1.0, description="Learning rate (the Keras version uses Adam's default, 0.001).")
    optimizer: Literal["adam", "sgd", "momentum"] = Field("adam", description="adam, plain sgd, or sgd with momentum 0.9.")
    batch_size: int = Field(32, ge=1, le=2048, description="Images per gradient step.")
    filters: int = Field(32, ge=1, le=256, description="Convolution filters (the roadmap uses 32).")
    dropout: float = Field(0.0, ge=0.0, le=0.9, description="Dropout before the output layer (0 = none).")
    augmentation: bool = Field(True, description="Random small rotations (up to 10 degrees) and shifts of the training images.")
    # 8 by default: the native scans carry all the information and train ~15x faster; 28
    # reproduces the roadmap's input_shape exactly (and is what the Keras version uses).
    image_size: Literal[8, 28] = Field(
        8, description="8 = the digits' native 8x8; 28 = upsampled to the roadmap's input_shape (28, 28, 1)."
    )
    framework: Literal["torch", "keras"] = Field("torch", description="torch, or the roadmap's Keras code on Keras 3.")

    @model_validator(mode="after")
    def _keras_runs_the_roadmap_code(self) -> CNNParams:
        return pin_roadmap_fields(self, KERAS_FIXED, "CNN", "it fixes Conv2D(32), adam at 0.001, 28x28 inputs, no dropout")


CARD = RecipeCard(
    name="cnn",
    summary="The roadmap's CNN (Conv2D 32 3x3 -> MaxPool -> Dense 10) classifying handwritten digits.",
    Params=CNNParams,
    module="tutor.lab.recipes.cnn",
    primary_metric="test_accuracy",
    higher_is_better=True,
    chance_accuracy=0.1,
)
