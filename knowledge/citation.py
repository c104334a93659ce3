"""What retrieval returns: one passage with everything needed to cite it exactly."""

from __future__ import annotations

from pydantic import BaseModel, Field

# Metadata keys every reader puts on its Documents (and so on every node in the store).
METADATA_KEYS = ("source", "title", "section", "page", "url", "version", "feed")


class Citation(BaseModel):
    text: str = Field(description="The exact passage text as stored.")
    source: str = Field(description="Stable source id: 'roadmap:<file>', 'paper:<slug>', 'docs:<dotted.path>', 'user:<path>'.")
    title: str = Field("", description="Document title (paper title, API object, file name).")
    section: str = Field("", description="Heading path inside the document ('Deep Learning > Code Snippets > CNN').")
    page: int | None = Field(None, description="1-based page for PDFs.")
    url: str | None = Field(None, description="Where the original lives (arXiv, docs site, file URL).")
    version: str | None = Field(None, description="Package and version for API docs, e.g. 'torch 2.13.0'.")
    feed: str = Field(description="roadmap | papers | docs | user")
    score: float = Field(0.0, description="Fused retrieval score (higher is better).")
