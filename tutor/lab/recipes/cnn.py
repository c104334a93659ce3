"""`cnn`: the roadmap's CNN on scikit-learn's handwritten digits.

Conv2D(32, 3x3, ReLU) -> MaxPool(2x2) -> Flatten -> Dense(10, softmax), exactly the roadmap's
Keras snippet, here in PyTorch (``framework=torch``) or as the roadmap's own Keras code run
through Keras 3 on the torch backend (``framework=keras``).

    tutor experiment run cnn --epochs 8 --dropout 0.2 --no-augmentation

torch is imported inside the methods: listing recipes and validating parameters stay cheap in
the launching process; only the run process pays for torch.
"""

from __future__ import annotations

from tutor.lab.base import Recipe, RunContext, register
from tutor.lab.cards.cnn import CARD, CNNParams
from tutor.lab.data import DATA_SEED, digits_split


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



@register
class CNNRecipe(Recipe):
    card = CARD

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

        from tutor.lab.training import (
            evaluate,
            make_optimizer,
            random_affine,
            train_classifier,
        )

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
