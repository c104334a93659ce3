"""``search_knowledge``: passages from the knowledge base with their citation records."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tutor.agent.tools.base import ToolContext, ToolOutput, as_ref, search_passages
from tutor.config import Feed


class SearchArgs(BaseModel):
    """Search the tutor's knowledge base (roadmap, paper notes, library docs, the learner's files)."""

    query: str = Field(min_length=1, max_length=2000, description="What to look for, in the learner's words.")
    feed: Feed | None = Field(None, description="Only this source: roadmap, papers, docs or user.")


def search_knowledge(args: SearchArgs, ctx: ToolContext) -> ToolOutput:
    passages = search_passages(ctx, args.query, top_k=ctx.settings.top_k, feed=args.feed)
    refs = [as_ref(i, p) for i, p in enumerate(passages, 1)]
    return ToolOutput(
        message=f"{len(refs)} passage{'s' if len(refs) != 1 else ''} found",
        result={"passages": [r.model_dump() for r in refs]},
        citations=refs,
    )
