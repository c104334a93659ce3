"""The llama-index adapter over the Edge store (knowledge/edge_vector_store.py), on a real Edge shard."""

import pytest
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)
from qdrant_client import QdrantClient

from knowledge.edge_vector_store import EdgeVectorStore
from knowledge.store import Store, close_clients
from tutor.config import Settings
from tutor.errors import TutorError


def _nodes():
    rows = [
        ("doc-a", "papers", "Dropout drops units at random while training.", [1.0, 0.0, 0.0, 0.0]),
        ("doc-a", "papers", "It reduces co-adaptation of features.", [0.8, 0.6, 0.0, 0.0]),
        ("doc-b", "docs", "torch.nn.Dropout(p=0.5) zeroes elements.", [0.9, 0.0, 0.436, 0.0]),
        ("doc-c", "roadmap", "Learn backpropagation first.", [0.0, 0.0, 0.0, 1.0]),
    ]
    nodes = []
    for i, (doc, feed, text, vector) in enumerate(rows):
        node = TextNode(id_=f"00000000-0000-0000-0000-00000000000{i + 1}", text=text, embedding=vector,
                        metadata={"feed": feed, "source": f"{feed}:{doc}", "title": doc})
        node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc)
        nodes.append(node)
    return nodes


@pytest.fixture
def edge_store(tutor_home):
    store = Store()
    assert store.engine == "edge"
    yield store
    close_clients()


def test_add_query_filter_and_delete(edge_store):
    vs = edge_store.vector_store()
    assert isinstance(vs, EdgeVectorStore) and vs.stores_text
    ids = vs.add(_nodes())  # creates the collection from the embedding width
    assert len(ids) == 4 and edge_store.count() == 4 and edge_store.dim() == 4

    result = vs.query(VectorStoreQuery(query_embedding=[1.0, 0.1, 0.0, 0.0], similarity_top_k=2))
    assert [n.get_content() for n in result.nodes] == [
        "Dropout drops units at random while training.", "torch.nn.Dropout(p=0.5) zeroes elements."
    ]
    assert result.ids == ids[:1] + ids[2:3] and result.similarities[0] == pytest.approx(1.0)
    assert result.nodes[0].metadata["source"] == "papers:doc-a" and result.nodes[0].ref_doc_id == "doc-a"

    feed = MetadataFilters(filters=[MetadataFilter(key="feed", value="docs")])
    only = vs.query(VectorStoreQuery(query_embedding=[1.0, 0.0, 0.0, 0.0], similarity_top_k=3, filters=feed))
    assert [n.metadata["feed"] for n in only.nodes] == ["docs"]
    title = MetadataFilters(filters=[MetadataFilter(key="title", value="doc-c")])
    assert [n.node_id for n in vs.query(VectorStoreQuery(query_embedding=[1, 0, 0, 0], similarity_top_k=1, filters=title)).nodes] == [ids[3]]
    with pytest.raises(TutorError, match="equality"):
        vs.query(VectorStoreQuery(query_embedding=[1, 0, 0, 0], filters=MetadataFilters(
            filters=[MetadataFilter(key="page", value=3, operator=FilterOperator.GT)])))

    assert [n.get_content() for n in vs.get_nodes([ids[3]])] == ["Learn backpropagation first."]
    vs.delete("doc-a")  # every node of that source document
    assert edge_store.count() == 2
    vs.delete_nodes([ids[2]])
    assert [str(p.id) for p in edge_store.scroll_all()] == [ids[3]]


def test_payloads_match_what_qdrant_vector_store_writes(edge_store, tutor_home):
    # Same nodes through llama-index's own QdrantVectorStore (qdrant-client, in memory): the
    # payloads must be identical, so a migrated knowledge base reads the same on a server.
    from llama_index.vector_stores.qdrant import QdrantVectorStore

    edge_store.vector_store().add(_nodes())
    reference = Store(Settings(), client=QdrantClient(location=":memory:"))
    reference.ensure(4)
    QdrantVectorStore(client=reference.client, collection_name=reference.collection).add(_nodes())
    ours = {str(p.id): p.payload for p in edge_store.scroll_all()}
    theirs = {str(p.id): p.payload for p in reference.scroll_all()}
    assert ours == theirs and len(ours) == 4
