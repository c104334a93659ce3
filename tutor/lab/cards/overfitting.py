"""The `overfitting` recipe's card: what it is and the parameters it takes (training code: recipes/overfitting.py).

Imports no torch, so listing and validating recipes stays fast in the launching process.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tutor.lab.base import RecipeCard, RecipeParams

Remedy = Literal["compare", "none", "dropout", "weight_decay", "augmentation", "early_stopping", "all"]


class OverfittingParams(RecipeParams):
    remedy: Remedy = Field(
        "compare",
        description="Remedy to train beside the unregularised baseline: one of the four, 'all' together, "
        "'none' (baseline only), or 'compare' (baseline, each remedy alone, and all together).",
    )
    n_train: int = Field(200, ge=50, le=1000, description="Training digits used (few, on purpose).")
    label_noise: float = Field(
        0.2, ge=0.0, le=0.5,
        description="Share of training labels replaced by a random wrong class (real data has label errors; "
        "memorising them is overfitting at its clearest). Validation and test labels stay clean.",
    )
    hidden: int = Field(256, ge=16, le=2048, description="Units in each of the two hidden layers (big, on purpose).")
    epochs: int = Field(30, ge=1, le=500, description="Passes over the training digits.")
    lr: float = Field(3e-3, gt=0.0, le=1.0, description="Adam learning rate.")
    batch_size: int = Field(32, ge=1, le=1000, description="Examples per gradient step.")
    dropout: float = Field(0.5, ge=0.0, le=0.9, description="Dropout probability on hidden units (dropout remedy).")
    weight_decay: float = Field(1e-2, ge=0.0, le=1.0, description="L2 penalty strength (weight_decay remedy).")
    # Defaults measured here: noise alone helps; a 1-pixel shift of an 8x8 digit (1/8 of its width)
    # is a big change for these centred scans, and with it validation accuracy fell below the baseline's.
    shift: int = Field(0, ge=0, le=2, description="Max pixels a digit is shifted by (augmentation remedy; 1 pixel is 1/8 of an 8x8 digit).")
    noise: float = Field(0.2, ge=0.0, le=1.0, description="Std of pixel noise added (augmentation remedy; pixels are 0..1).")
    patience: int = Field(10, ge=1, le=100, description="Epochs without a better validation loss before stopping (early_stopping).")


CARD = RecipeCard(
    name="overfitting",
    summary="Watch a big net memorise 200 digits, then see dropout, weight decay, augmentation and early stopping close the gap.",
    Params=OverfittingParams,
    module="tutor.lab.recipes.overfitting",
)
