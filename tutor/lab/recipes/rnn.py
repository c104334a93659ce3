"""`rnn`: the roadmap's text classifier on a sentiment set where word order decides the label.

Embedding(64) -> LSTM(64) -> Dense(1, sigmoid), as in the roadmap's Keras snippet, in PyTorch
(``framework=torch``, with a choice of LSTM, GRU or vanilla RNN cell) or as the roadmap's own
Keras code (``framework=keras``). Next to it, on the same split, a bag-of-words logistic
regression: it sees which words occur but not their order, so "not bad" and "bad" look alike
to it. The gap between the two accuracies is the lesson.

    tutor experiment run rnn --cell gru --epochs 6
"""

from __future__ import annotations

from tutor.lab.base import Recipe, RunContext, register
from tutor.lab.cards.rnn import CARD, RNNParams
from tutor.lab.data import DATA_SEED, bag_of_words, sentiment_split


def build_torch_rnn(vocab_size: int, embedding_dim: int, hidden_size: int, cell: str):
    from torch import nn

    recurrent = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]

    class TextClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
            self.rnn = recurrent(embedding_dim, hidden_size, batch_first=True)
            # One logit; the sigmoid is inside the binary cross-entropy loss.
            self.out = nn.Linear(hidden_size, 1)

        def forward(self, ids):
            states, _ = self.rnn(self.embedding(ids))
            # Sequences are pre-padded, so the last time step is the last real word.
            return self.out(states[:, -1])

    return TextClassifier()


def bag_of_words_baseline(split) -> float:
    """Test accuracy of logistic regression on word counts: the order-blind reference."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=2000)
    clf.fit(bag_of_words(split.X_train, split.vocab_size), split.y_train)
    return float(clf.score(bag_of_words(split.X_test, split.vocab_size), split.y_test))


@register
class RNNRecipe(Recipe):
    card = CARD

    def setup(self, params: RNNParams, ctx: RunContext) -> None:
        self.p, self.ctx = params, ctx
        ctx.log_message(f"generating {params.sentences} sentences")
        self.split = sentiment_split(n=params.sentences, seed=DATA_SEED)
        self.y_pred = None
        self.model = None

    def train(self) -> dict[str, float]:
        self.ctx.log_message("fitting the bag-of-words baseline")
        baseline = bag_of_words_baseline(self.split)
        if self.p.framework == "keras":
            from tutor.lab.keras_roadmap import train_roadmap_rnn

            result = train_roadmap_rnn(self.split, self.ctx, epochs=self.p.epochs, batch_size=self.p.batch_size,
                                       seed=self.p.seed)
            self.y_pred = result.pop("y_pred")
            self.model_summary = result.pop("model_summary")
        else:
            result = self._train_torch()
        result["baseline_accuracy"] = baseline
        result["gain_over_baseline"] = result["test_accuracy"] - baseline
        return result

    def _train_torch(self) -> dict[str, float]:
        import torch

        from tutor.lab.training import evaluate, make_optimizer, train_classifier

        p, ctx, s = self.p, self.ctx, self.split
        to = lambda a: torch.as_tensor(a).long().to(ctx.device)  # noqa: E731
        data = {"X_train": to(s.X_train), "y_train": to(s.y_train), "X_val": to(s.X_val), "y_val": to(s.y_val)}
        self.model = build_torch_rnn(s.vocab_size, p.embedding_dim, p.hidden_size, p.cell).to(ctx.device)
        optimizer = make_optimizer("adam", self.model.parameters(), p.lr)
        train_classifier(self.model, ctx, data, epochs=p.epochs, batch_size=p.batch_size, optimizer=optimizer,
                         seed=p.seed, binary=True)
        test_loss, test_acc, preds = evaluate(self.model, to(s.X_test), to(s.y_test), binary=True)
        self.y_pred = preds.cpu().numpy()
        last = ctx.history[-1]
        return {"test_accuracy": test_acc, "test_loss": test_loss, "val_accuracy": last["val_accuracy"],
                "train_accuracy": last["train_accuracy"]}

    def save(self) -> dict[str, str]:
        import json

        from tutor.lab.plots import plot_confusion

        artifacts = {}
        if self.y_pred is not None:
            s = self.split
            artifacts["confusion_matrix"] = plot_confusion(
                s.y_test, self.y_pred, self.ctx.artifact_path("confusion_matrix.png"), labels=["negative", "positive"]
            )
            # A few test sentences with the model's verdict: the learner can check "not bad" himself.
            wrong = [i for i in range(len(s.y_test)) if self.y_pred[i] != s.y_test[i]]
            picks = list(range(8)) + wrong[:8]
            examples = [{"text": s.texts_test[i], "label": int(s.y_test[i]), "predicted": int(self.y_pred[i])}
                        for i in picks]
            path = self.ctx.artifact_path("examples.json")
            path.write_text(json.dumps(examples, indent=2))
            artifacts["examples"] = str(path)
        if getattr(self, "model_summary", None):
            path = self.ctx.artifact_path("keras_model_summary.txt")
            path.write_text(self.model_summary)
            artifacts["model_summary"] = str(path)
        return artifacts

    def cleanup(self) -> None:
        self.model = None
