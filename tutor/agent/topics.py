"""The roadmap's topics: what the tutor teaches, quizzes on and tracks mastery of.

They follow the roadmap's "Essential Skills", its two theory examples, its toolkit and its
best practices, in the roadmap's own order (which is also the suggested study order).
``query`` is what the quiz tool searches for; ``aliases`` are words a learner uses for it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class Topic(BaseModel):
    id: str = Field(description="Stable id, used in the database and by the quiz tool.")
    title: str = Field(description="What a learner sees.")
    query: str = Field(description="Retrieval query for passages that teach this topic.")
    aliases: list[str] = Field(default_factory=list, description="Lower-case words that name this topic.")


TOPICS: list[Topic] = [
    Topic(id="fundamentals", title="Neural network fundamentals",
          query="perceptron multi-layer perceptron activation function neuron",
          aliases=["fundamentals", "basics", "perceptron", "perceptrons", "mlp", "mlps", "activation", "activations",
                   "neural network basics", "neurons", "relu", "sigmoid"]),
    Topic(id="backpropagation", title="Backpropagation",
          query="backpropagation gradient chain rule weight update",
          aliases=["backprop", "backpropagation", "back-propagation", "gradient descent", "chain rule", "gradients"]),
    Topic(id="universal-approximation", title="The universal approximation theorem",
          query="universal approximation theorem one hidden layer continuous function",
          aliases=["universal approximation", "uat", "approximation theorem", "cybenko"]),
    Topic(id="cnn", title="Convolutional neural networks",
          query="convolutional neural network convolution filters pooling image classification",
          aliases=["cnn", "cnns", "convolution", "convolutional", "conv2d", "pooling", "image classification"]),
    Topic(id="rnn", title="Recurrent networks: RNN, LSTM, GRU",
          query="recurrent neural network LSTM gates long-term dependencies sequence",
          aliases=["rnn", "rnns", "lstm", "lstms", "gru", "grus", "recurrent", "sequence model", "time series"]),
    Topic(id="nlp", title="Natural language processing",
          query="natural language processing word embeddings sentiment analysis text classification translation",
          aliases=["nlp", "natural language", "word embeddings", "word2vec", "sentiment", "translation", "text classification"]),
    Topic(id="llm", title="Large language models and Transformers",
          query="transformer self-attention large language model GPT pre-training",
          aliases=["llm", "llms", "transformer", "transformers", "attention", "gpt", "bert", "language model"]),
    Topic(id="rag", title="Retrieval-augmented generation",
          query="retrieval-augmented generation retriever dense passage retrieval grounding",
          aliases=["rag", "retrieval augmented", "retrieval-augmented", "retrieval"]),
    Topic(id="fine-tuning", title="Fine-tuning, LoRA and QLoRA",
          query="fine-tuning pre-trained model low-rank adaptation LoRA adapters",
          aliases=["fine-tuning", "fine tuning", "finetuning", "lora", "qlora", "adapters", "peft"]),
    Topic(id="computer-vision", title="Object detection and segmentation",
          query="object detection bounding boxes image segmentation pixel labels",
          aliases=["computer vision", "detection", "object detection", "segmentation", "yolo", "u-net", "unet", "r-cnn"]),
    Topic(id="toolkit", title="The toolkit: PyTorch, Keras, TensorFlow, TensorBoard",
          query="PyTorch TensorFlow Keras TensorBoard deep learning framework",
          aliases=["toolkit", "pytorch", "tensorflow", "keras", "tensorboard", "frameworks", "tools"]),
    Topic(id="best-practices", title="Best practices: overfitting, regularisation, monitoring",
          query="overfitting regularization dropout data augmentation early stopping",
          aliases=["best practices", "overfitting", "regularization", "regularisation", "dropout", "augmentation",
                   "early stopping", "weight decay"]),
]
TOPIC_IDS: tuple[str, ...] = tuple(t.id for t in TOPICS)
BY_ID: dict[str, Topic] = {t.id: t for t in TOPICS}


#: Aliases that qualify another topic when one is named ("nlp basics", "cnn fundamentals").
GENERIC_ALIASES = {"basics", "fundamentals", "tools", "toolkit"}


def topic_for(text: str) -> str | None:
    """The topic a piece of text names ('quiz me on LSTMs' -> 'rnn'), by the longest alias found."""
    import re

    low = " " + re.sub(r"[^a-z0-9+\- ]", " ", text.lower()) + " "
    best: tuple[int, str] | None = None
    for topic in TOPICS:
        for alias in [topic.id.replace("-", " "), *topic.aliases]:
            # A plural counts ("language models"); a generic word ("basics") only names a topic alone:
            # in "nlp basics" it qualifies NLP.
            if re.search(rf"(?<![a-z0-9]){re.escape(alias)}s?(?![a-z0-9])", low):
                weight = 0 if alias in GENERIC_ALIASES else len(alias)
                if best is None or weight > best[0]:
                    best = (weight, topic.id)
    return best[1] if best else None
