"""Keep inline citations honest while the answer streams.

The model sees passages numbered [1]..[k]. Its answer may cite numbers that were never given
([7] of 3), use odd shapes ("[Passage 2]", "[1, 3]", "[1-2]"), or cite nothing. This module
rewrites markers *as tokens arrive*, so what the user watched stream is exactly the final text:

- a marker for a given passage is renumbered in first-cited order (the first passage the
  answer cites becomes [1], the next new one [2], ...), so the source list printed after the
  answer is 1..m with no gaps;
- a number that points to no given passage is dropped from the text and recorded;
- brackets inside code (``x[1]``, ```` ``` ```` blocks) and after identifiers are left alone.

The state machine is hand-written: no library rewrites citation markers in a token stream.
"""

from __future__ import annotations

import re

# "[1]", "[1, 2]", "[1-3]", "[Passage 2]", "[sources 1 and 3]"
_MARKER = re.compile(
    r"^\s*(?:(?:passages?|sources?|refs?|references?)\s*)?(\d{1,3}(?:\s*(?:,|;|-|–|and)\s*\d{1,3})*)\s*$",
    re.IGNORECASE,
)
_MARKER_CHARS = set("0123456789 ,;-–") | set("passagesourcerefnd") | set("PASSAGESOURCEREFND")
_MAX_MARKER = 24
_IDENT = re.compile(r"[\w)\]'\"]")


def _numbers(inner: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", inner):
        if not part:
            continue
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            lo, hi = int(bounds[0]), int(bounds[1])
            if 0 <= hi - lo <= 10:  # "[1-3]" is a range; "[2-300]" is not a citation range
                out.extend(range(lo, hi + 1))
                continue
        out.extend(int(x) for x in re.findall(r"\d+", part))
    return out


class CitationRewriter:
    """Feed it answer chunks; it returns the rewritten text to show, chunk by chunk."""

    def __init__(self, given: int):
        self.given = given  # passages are numbered 1..given
        self.order: list[int] = []  # original passage numbers, in first-cited order
        self.invalid: list[int] = []  # cited numbers that match no given passage
        self.text = ""  # everything emitted so far
        self._pending = ""
        self._fence = False
        self._inline = False
        self._prev = ""

    # -- public ---------------------------------------------------------------------
    def feed(self, chunk: str) -> str:
        out = "".join(self._step(ch) for ch in chunk)
        self.text += out
        return out

    def flush(self) -> str:
        out = self._resolve_pending(final=True)
        self.text += out
        return out

    def rewrite(self, text: str) -> str:
        """The whole-text form: feed + flush."""
        return self.feed(text) + self.flush()

    @property
    def mapping(self) -> dict[int, int]:
        """Original passage number → number shown in the answer."""
        return {orig: i + 1 for i, orig in enumerate(self.order)}

    # -- the state machine ---------------------------------------------------------------
    def _emit(self, s: str) -> str:
        if s:
            self._prev = s[-1]
        return s

    def _step(self, ch: str) -> str:
        if self._pending.startswith("`"):
            if ch == "`":
                self._pending += ch
                return ""
            return self._resolve_pending() + self._step(ch)
        if self._pending.startswith("["):
            self._pending += ch
            if ch == "]":
                return self._resolve_marker()
            if ch in _MARKER_CHARS and len(self._pending) <= _MAX_MARKER:
                return ""
            # Not a citation after all: show it, then re-read the last char on its own.
            literal, self._pending = self._pending[:-1], ""
            return self._emit(literal) + self._step(ch)
        if ch == "`":
            self._pending = ch
            return ""
        if ch == "[" and not self._fence and not self._inline and not _IDENT.match(self._prev or " "):
            self._pending = ch
            return ""
        if ch == "[" and self._prev == "]" and not self._fence and not self._inline:
            self._pending = ch  # "[1][2]": a second marker right after the first
            return ""
        return self._emit(ch)

    def _resolve_pending(self, final: bool = False) -> str:
        pending, self._pending = self._pending, ""
        if not pending:
            return ""
        if pending.startswith("`"):
            if len(pending) >= 3:
                self._fence = not self._fence
            elif not self._fence:
                self._inline = not self._inline
            return self._emit(pending)
        return self._emit(pending)  # an unfinished "[..." at the end of the answer

    def _resolve_marker(self) -> str:
        pending, self._pending = self._pending, ""
        m = _MARKER.match(pending[1:-1])
        if not m:
            return self._emit(pending)
        shown: list[str] = []
        for n in _numbers(m.group(1)):
            if 1 <= n <= self.given:
                if n not in self.order:
                    self.order.append(n)
                label = f"[{self.mapping[n]}]"
                if label not in shown:
                    shown.append(label)
            elif n not in self.invalid:
                self.invalid.append(n)
        if not shown:
            return ""  # every number was bogus: drop the marker
        return self._emit("".join(shown))
