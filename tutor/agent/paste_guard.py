"""Drop the passage headings a small model pastes back into its answer.

With passages shown as "[n] title › section (source)", the 0.5B model sometimes answers by copying
them, heading lines first (a quarter of a 24-question sample in docs/answers.md). The copied
heading lines are never part of an answer: this filter drops them from the stream, a line that
could be one ("[2] ...", "## ...") being held until it ends; every other line streams at once.
Hand-written: a few lines of line-buffering no library offers for a token stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

_HEADING = re.compile(r"^\s*(?:\[\d+\]\s+.*\((?:paper|roadmap|docs|user):[^)]*\)\s*\[?\d*\]?\s*|#{1,6}\s.*)$")
_MAYBE = re.compile(r"^\s*(?:\[\d*\]?|#)")


class PasteGuard:
    def __init__(self, headings: Sequence[str] = ()):
        self._headings = {" ".join(h.split()) for h in headings if h.strip()}
        self._line = ""  # the current line, while it might still be a heading
        self._holding = None  # None: undecided at line start; True: holding; False: streaming
        self.dropped = 0

    def _is_heading(self, line: str) -> bool:
        flat = " ".join(line.split())
        return bool(_HEADING.match(line)) or flat in self._headings or \
            any(flat.startswith(f"[{n}] {h}") for h in self._headings for n in range(1, 10)) and len(flat) < 300

    def feed(self, delta: str) -> str:
        out = []
        for ch in delta:
            if self._holding is None:
                self._line += ch
                if ch == "\n":
                    out.append(self._end_line())
                elif not _MAYBE.match(self._line):
                    self._holding = False
                    out.append(self._line)
                    self._line = ""
                elif len(self._line.strip()) >= 2 and not _MAYBE.match(self._line.strip()[:2]):
                    self._holding = False
                    out.append(self._line)
                    self._line = ""
                else:
                    self._holding = True
            elif self._holding:
                self._line += ch
                if ch == "\n":
                    out.append(self._end_line())
            else:
                out.append(ch)
                if ch == "\n":
                    self._holding = None
        return "".join(out)

    def _end_line(self) -> str:
        line, self._line, self._holding = self._line, "", None
        if self._is_heading(line.rstrip("\n")):
            self.dropped += 1
            return ""
        return line

    def flush(self) -> str:
        if self._holding and self._line:
            return self._end_line()
        line, self._line = self._line, ""
        return line


def guarded(deltas: Iterator[str], headings: Sequence[str] = ()) -> Iterator[str]:
    from tutor.agent.attribution import filtered

    return filtered(deltas, PasteGuard(headings))
