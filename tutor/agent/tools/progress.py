"""``progress``: the roadmap's topics, the learner's mastery of each, and what to study next."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tutor.agent.tools.base import ToolContext, ToolOutput
from tutor.agent.topics import TOPICS

#: A topic counts as mastered from this score on.
MASTERED = 0.7


class ProgressArgs(BaseModel):
    """Show the learner's mastery per roadmap topic and suggest what to study next."""


def next_topic(mastery: dict[str, dict[str, Any]]) -> str:
    """The first topic in roadmap order not yet mastered (never tried counts as 0)."""
    for topic in TOPICS:
        if mastery.get(topic.id, {}).get("score", 0.0) < MASTERED:
            return topic.id
    return min(TOPICS, key=lambda t: mastery.get(t.id, {}).get("score", 0.0)).id


def progress(args: ProgressArgs, ctx: ToolContext) -> ToolOutput:
    mastery = ctx.memory.mastery_for(ctx.user)
    rows = []
    for topic in TOPICS:
        m = mastery.get(topic.id)
        rows.append({"topic": topic.id, "title": topic.title, "mastery": None if m is None else round(m["score"], 2),
                     "attempts": 0 if m is None else m["attempts"]})
    nxt = next_topic(mastery)
    title = next(t.title for t in TOPICS if t.id == nxt)
    lines = ["Your roadmap progress:"]
    for row in rows:
        shown = "not tried" if row["mastery"] is None else f"{row['mastery']:.2f} ({row['attempts']} quiz{'zes' if row['attempts'] != 1 else ''})"
        lines.append(f"- {row['title']}: {shown}")
    lines.append(f"Next: {title}. Say \"quiz me on {nxt.replace('-', ' ')}\" to practise it.")
    return ToolOutput(message="progress", reply="\n".join(lines), result={"topics": rows, "next": nxt})
