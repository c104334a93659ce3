"""A llama-index vector store over the tutor's ``Store`` when the engine is Qdrant Edge.

llama-index ships ``QdrantVectorStore`` for qdrant-client, and nothing for Edge, so this is
the adapter the ingestion pipeline and ``VectorStoreIndex`` need: ``add`` writes nodes as
points, ``delete``/``delete_nodes`` remove them, ``query`` answers a dense query with optional
exact-match metadata filters. Payloads are built exactly as ``QdrantVectorStore`` builds them
(``node_to_metadata_dict`` with the text kept, metadata not flattened), so a knowledge base
written by either engine reads the same, and ``tutor kb migrate`` can copy points verbatim
to a server that ``QdrantVectorStore`` then reads.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    FilterCondition,
    FilterOperator,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryResult,
)
from llama_index.core.vector_stores.utils import (
    metadata_dict_to_node,
    node_to_metadata_dict,
)
from pydantic import PrivateAttr

from tutor.errors import TutorError


class EdgeVectorStore(BasePydanticVectorStore):
    """llama-index view of one Edge collection (through ``knowledge.store.Store``)."""

    stores_text: bool = True
    flat_metadata: bool = False
    batch_size: int = 256

    _store: Any = PrivateAttr()

    def __init__(self, store, batch_size: int = 256, **kwargs: Any) -> None:
        super().__init__(batch_size=batch_size, **kwargs)
        self._store = store

    @classmethod
    def class_name(cls) -> str:
        return "EdgeVectorStore"

    @property
    def client(self) -> Any:
        return self._store.client

    # -- writes -------------------------------------------------------------------------
    def add(self, nodes: list[BaseNode], **add_kwargs: Any) -> list[str]:
        if not nodes:
            return []
        self._store.ensure(len(nodes[0].get_embedding()))
        ids: list[str] = []
        for start in range(0, len(nodes), self.batch_size):
            batch = nodes[start : start + self.batch_size]
            payloads = [node_to_metadata_dict(n, remove_text=False, flat_metadata=self.flat_metadata) for n in batch]
            self._store.upsert([n.node_id for n in batch], [n.get_embedding() for n in batch], payloads)
            ids.extend(n.node_id for n in batch)
        return ids

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        # node_to_metadata_dict records the source document under "doc_id" (QdrantVectorStore
        # deletes by the same key).
        self._store.delete_where("doc_id", ref_doc_id)

    def delete_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None, **kw: Any) -> None:
        if filters is not None:
            raise TutorError("deleting by metadata filter is not supported by the Edge store; pass node ids")
        self._store.delete_ids(list(node_ids or []))

    def get_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None) -> list[BaseNode]:
        if filters is not None:
            raise TutorError("reading nodes by metadata filter is not supported by the Edge store; pass node ids")
        return [metadata_dict_to_node(p.payload) for p in self._store.retrieve(list(node_ids or []))]

    def clear(self) -> None:
        self._store.drop()

    # -- reads --------------------------------------------------------------------------
    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        if query.query_embedding is None:
            raise TutorError("the Edge store answers dense queries only (no query embedding was given)")
        feed, wanted = _split_filters(query.filters)
        k = query.similarity_top_k
        # Feed goes to the engine's index; any other equality filter is checked here on a
        # wider ranking (the tutor itself only ever filters by feed).
        depth = k if not wanted else k * 8
        hits = self._store.query(query.query_embedding, depth, feed=feed, with_payload=True)
        if wanted:
            hits = [h for h in hits if all((h.payload or {}).get(key) == value for key, value in wanted.items())]
        hits = hits[:k]
        nodes = [metadata_dict_to_node(h.payload or {}) for h in hits]
        return VectorStoreQueryResult(nodes=nodes, similarities=[float(h.score) for h in hits], ids=[str(h.id) for h in hits])


def _split_filters(filters: MetadataFilters | None) -> tuple[str | None, dict[str, Any]]:
    """(feed value or None, other key == value conditions); anything richer gets one clear error."""
    if filters is None or not filters.filters:
        return None, {}
    if filters.condition not in (None, FilterCondition.AND):
        raise TutorError("the Edge store supports AND-combined equality filters only")
    feed, other = None, {}
    for f in filters.filters:
        if isinstance(f, MetadataFilters) or f.operator != FilterOperator.EQ:
            raise TutorError("the Edge store supports AND-combined equality filters only")
        if f.key == "feed":
            feed = f.value
        else:
            other[f.key] = f.value
    return feed, other
