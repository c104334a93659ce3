import numpy as np
import pytest

from knowledge.embed import TutorEmbedding, get_encoder, resolve_model_path
from tests.knowledge.conftest import ROADMAP
from tutor.errors import OfflineError

TEXTS = [
    "Backpropagation computes gradients of the loss with respect to every weight.",
    "Convolutional layers slide small filters over an image.",
    "An LSTM keeps a cell state that gates what to remember.",
    "Dropout randomly zeroes activations during training to fight overfitting.",
    ROADMAP.read_text(encoding="utf-8")[:1500],
]


def test_model_resolves_offline_from_the_wheel():
    path = resolve_model_path("all-MiniLM-L6-v2")
    assert (path / "config.json").exists() and (path / "modules.json").exists()
    with pytest.raises(OfflineError):
        resolve_model_path("someone/not-shipped-model")


@pytest.mark.slow
def test_onnx_int8_matches_fp32(kb_home):
    from tutor.config import get_settings

    settings = get_settings()
    onnx = get_encoder(settings, "onnx-int8")
    torch = get_encoder(settings, "torch")
    a, b = torch.encode(TEXTS), onnx.encode(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-3)
    cosine = (a * b).sum(1)
    assert cosine.min() > 0.97, cosine
    # Same ranking of the right passage for a query.
    q = "backpropagation: gradients of the loss for every weight"
    assert int(np.argmax(b @ onnx.encode([q])[0])) == int(np.argmax(a @ torch.encode([q])[0])) == 0
    # The export is cached under state_dir/embed and reused.
    exports = list((settings.state_dir / "embed").glob("*/model_int8.onnx"))
    assert len(exports) == 1


def test_batching_keeps_input_order(kb_home):
    encoder = get_encoder()
    together = encoder.encode(TEXTS, batch_size=2)
    alone = np.stack([encoder.encode([t])[0] for t in TEXTS])
    # Dynamic int8 quantisation picks activation scales per batch, so batched vectors differ
    # slightly from single ones; they must still be the same texts, in the same order.
    cosine = (together * alone).sum(1)
    assert cosine.min() > 0.97, cosine
    assert list(np.argmax(together @ alone.T, axis=1)) == list(range(len(TEXTS)))


def test_llama_index_interface(kb_home):
    emb = TutorEmbedding()
    q = emb.get_query_embedding("what is dropout")
    docs = emb.get_text_embedding_batch(TEXTS[:3])
    assert len(q) == 384 and len(docs) == 3 and all(len(d) == 384 for d in docs)
    assert emb.dim == 384
