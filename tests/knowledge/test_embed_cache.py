import numpy as np

from knowledge import embed_cache
from knowledge.embed_cache import EmbeddingCache, text_key, write_cache


def test_cache_round_trip_and_misses(tmp_path):
    vectors = np.eye(3, 4, dtype=np.float32)
    keys = np.array([text_key("m", t) for t in ("a", "b", "c")], dtype=np.uint64)
    path = write_cache("m", keys, vectors, tmp_path / "m.npz")
    cache = EmbeddingCache("m", path)
    found, missing = cache.lookup(["b", "zzz", "a"])
    assert missing == [1]
    np.testing.assert_array_equal(found[0], vectors[1])
    np.testing.assert_array_equal(found[2], vectors[0])
    # The key includes the model: another model's vectors are never taken.
    assert EmbeddingCache("other", path).lookup(["a"])[1] == [0]
    assert len(EmbeddingCache("m", tmp_path / "absent.npz")) == 0


def test_ingestion_takes_shipped_vectors_and_embeds_only_the_rest(kb_home, tmp_path, monkeypatch):
    from llama_index.core.schema import MetadataMode, TextNode

    from knowledge.embed import TutorEmbedding, get_encoder, model_key
    from tutor.config import get_settings

    settings = get_settings()
    model = model_key(settings)
    shipped = TextNode(text="a chunk whose vector ships with the package")
    fresh = TextNode(text="a chunk of the learner's own notes")
    marker = np.zeros(get_encoder(settings).dim, dtype=np.float32)
    marker[0] = 1.0  # no encoder output is a one-hot vector: proof the cache was used
    key = text_key(model, shipped.get_content(metadata_mode=MetadataMode.EMBED))
    monkeypatch.setattr(embed_cache, "CACHE_DIR", tmp_path)
    embed_cache._load.cache_clear()
    write_cache(model, np.array([key], dtype=np.uint64), marker[None, :])
    try:
        nodes = TutorEmbedding(settings)([shipped, fresh])
    finally:
        embed_cache._load.cache_clear()
    assert nodes[0].embedding == marker.tolist()
    expected = get_encoder(settings).encode([fresh.get_content(metadata_mode=MetadataMode.EMBED)])[0]
    np.testing.assert_allclose(nodes[1].embedding, expected, atol=1e-6)
