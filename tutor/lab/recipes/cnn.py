"""`cnn`: the roadmap's CNN on scikit-learn's handwritten digits.

Conv2D(32, 3x3, ReLU) -> MaxPool(2x2) -> Flatten -> Dense(10, softmax), exactly the roadmap's
Keras snippet, here in PyTorch (``framework=torch``) or as the roadmap's own Keras code run
through Keras 3 on the torch backend (``framework=keras``).

    tutor experiment run cnn --epochs 8 --dropout 0.2 --augmentation true

torch is imported inside the methods: listing recipes and validating parameters stay cheap in
the launching process; only the run process pays for torch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from tutor.lab.base import Recipe, RecipeParams, RunContext, register
from tutor.lab.data import DATA_SEED, digits_split
from tutor.lab.keras_roadmap import pin_roadmap_fields

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
    def _keras_runs_the_roadmap_code(self) -> "CNNParams":
        return pin_roadmap_fields(self, KERAS_FIXED, "CNN", "it fixes Conv2D(32), adam at 0.001, 28x28 inputs, no dropout")


def build_torch_cnn(filters: int, image_size: int, dropout: float):
    from torch import nn

    side = (image_size - 2) // 2  # 3x3 conv without padding, then 2x2 pooling
    return nn.Sequential(
        nn.Conv2d(1, filters, kernel_size=3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(dropout),
        # Logits; the softmax lives in the cross-entropy loss (see training.py).
        nn.Linear(filters * side * side, 10),
    )


def random_affine(max_degrees: float, max_shift: float):
    """Batch augmentation: each image rotated/shifted by its own small random amount."""
    import math

    import torch
    from torch.nn import functional as F

    def augment(x, generator):
        n = x.shape[0]
        angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(max_degrees)
        shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * max_shift
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
        grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")

    return augment


@register
class CNNRecipe(Recipe):
    name = "cnn"
    summary = "The roadmap's CNN (Conv2D 32 3x3 -> MaxPool -> Dense 10) classifying handwritten digits."
    Params = CNNParams
    primary_metric = "test_accuracy"
    higher_is_better = True
    chance_accuracy = 0.1

    def setup(self, params: CNNParams, ctx: RunContext) -> None:
        self.p, self.ctx = params, ctx
        ctx.log_message(f"loading digits at {params.image_size}x{params.image_size}")
        self.split = digits_split(seed=DATA_SEED, size=params.image_size)
        self.y_pred = None

    def train(self) -> dict[str, float]:
        if self.p.framework == "keras":
            from tutor.lab.keras_roadmap import train_roadmap_cnn

            result = train_roadmap_cnn(self.split, self.ctx, epochs=self.p.epochs, batch_size=self.p.batch_size,
                                       seed=self.p.seed, augmentation=self.p.augmentation)
            self.y_pred = result.pop("y_pred")
            self.model_summary = result.pop("model_summary")
            return result
        return self._train_torch()

    def _train_torch(self) -> dict[str, float]:
        import torch

        from tutor.lab.training import evaluate, make_optimizer, train_classifier

        p, ctx, s = self.p, self.ctx, self.split
        device = ctx.device

        def tensor(a, long=False):
            t = torch.as_tensor(a)
            return (t.long() if long else t.float().unsqueeze(1)).to(device)  # (N, 1, H, W)

        data = {"X_train": tensor(s.X_train), "y_train": tensor(s.y_train, True),
                "X_val": tensor(s.X_val), "y_val": tensor(s.y_val, True)}
        self.model = build_torch_cnn(p.filters, p.image_size, p.dropout).to(device)
        optimizer = make_optimizer(p.optimizer, self.model.parameters(), p.lr)
        # Shifts in grid units (image width = 2): 0.15 is about 2 pixels at 28x28, 0.6 pixel at 8x8.
        augment = random_affine(10.0, 0.15) if p.augmentation else None
        train_classifier(self.model, ctx, data, epochs=p.epochs, batch_size=p.batch_size, optimizer=optimizer,
                         seed=p.seed, augment=augment)
        test_loss, test_acc, preds = evaluate(self.model, tensor(s.X_test), tensor(s.y_test, True))
        self.y_pred = preds.cpu().numpy()
        last = ctx.history[-1]
        return {"test_accuracy": test_acc, "test_loss": test_loss, "val_accuracy": last["val_accuracy"],
                "train_accuracy": last["train_accuracy"],
                "parameters": float(sum(q.numel() for q in self.model.parameters()))}

    def save(self) -> dict[str, str]:
        from tutor.lab.plots import plot_confusion

        artifacts = {}
        if self.y_pred is not None:
            artifacts["confusion_matrix"] = plot_confusion(
                self.split.y_test, self.y_pred, self.ctx.artifact_path("confusion_matrix.png"),
                labels=[str(i) for i in range(10)],
            )
        if getattr(self, "model_summary", None):
            path = self.ctx.artifact_path("keras_model_summary.txt")
            path.write_text(self.model_summary)
            artifacts["model_summary"] = str(path)
        if getattr(self, "model", None) is not None:
            import torch

            path = self.ctx.artifact_path("model.pt")
            torch.save(self.model.state_dict(), path)
            artifacts["model"] = str(path)
        return artifacts

    def cleanup(self) -> None:
        self.model = None
