"""Text repair applied to every document on ingestion.

Files written by other tools often arrive as UTF-8 that was decoded as cp1252/latin-1 once
("ðŸš€" for 🚀, "â€“" for –). ftfy knows the whole family of these accidents and undoes them
without touching text that is already fine, so we lean on it instead of a replacement table.
"""

from __future__ import annotations

import ftfy

# Keep the repair conservative: fix encodings and stray control characters, but leave
# quotes, ligatures and widths alone, since code snippets must stay byte-for-byte runnable.
_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,
    uncurl_quotes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    normalization="NFC",
)


def repair(text: str) -> str:
    """Return ``text`` with mojibake and broken control characters fixed."""
    if not text:
        return text
    return ftfy.fix_text(text, config=_CONFIG)
