"""The knowledge base: corpus feeds, readers, ingestion pipeline, vector store and retrieval."""
