"""Sections that only point elsewhere: navigation, not content.

The paper notes end with a "## Roadmap links" list of roadmap headings; other notes have "See
also" or a bare list of links. Their words match many questions (every heading of the roadmap
is in them) while they explain nothing, so the first-run question drew three of them ahead of
any passage about backpropagation. The parser flags their chunks (``navigation=True``) and the
retriever ranks flagged chunks after the others.

A module of its own, with no heavy imports, so the agent can reuse the pattern cheaply.
"""

from __future__ import annotations

import re

#: Headings of sections that only link elsewhere: navigation, not content.
NAVIGATION = re.compile(
    r"(?:^|[>›]\s*)(?:roadmap links|see also|references|further reading|related (?:links|reading|notes))\s*$",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^#{1,6}\s")
_LINK_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[^\]]*\]\([^)]*\)|<?https?://\S+>?)[\s.,;:]*(?:[-–—:].{0,80})?$")


def is_navigation(section: str, body: str) -> bool:
    """True for a section that only points elsewhere: a link-list heading, or a list of links."""
    if NAVIGATION.search(section or ""):
        return True
    lines = [line for line in body.split("\n") if line.strip() and not _HEADING.match(line.strip())]
    links = sum(bool(_LINK_ITEM.match(line)) for line in lines)
    # Three or more list items, nearly all of them a bare link with at most a short label.
    return links >= 3 and links >= 0.8 * len(lines)
