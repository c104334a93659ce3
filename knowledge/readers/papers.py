"""Reader for the paper-notes feed: one llama-index Document per note in corpus/papers.

A note is a Markdown file whose YAML front matter holds the bibliographic facts (title,
authors, year, venue, arxiv, url, topics) and whose body has four fixed sections. The
front matter is validated with pydantic so that a typo (an unquoted arXiv id that YAML
turns into a float, an unknown topic, a missing field) is caught here with a message that
names the file, instead of surfacing later as a broken citation.

Problems are reported, never raised, by the loaders: ``load_paper_notes_with_problems``
returns ``(documents, problems)`` where each problem is one line naming the file;
``load_paper_notes`` returns only the documents and hands each problem to an ``on_problem``
callback (default: a logging warning). ``parse_paper_note`` is the strict single-file form
and raises ``PaperNoteError``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import ftfy
import yaml
from llama_index.core import Document
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tutor.errors import TutorError

log = logging.getLogger(__name__)

FEED = "papers"
DEFAULT_FOLDER = Path(__file__).resolve().parent.parent / "corpus" / "papers"

# The roadmap's topics, as the notes name them. Retrieval filters and the eval set use
# these exact strings, so a note may only use names from this list.
ROADMAP_TOPICS: tuple[str, ...] = (
    "neural-network-fundamentals",
    "activation-functions",
    "backpropagation",
    "universal-approximation",
    "cnn",
    "rnn",
    "nlp",
    "llm",
    "rag",
    "fine-tuning",
    "computer-vision",
    "object-detection",
    "segmentation",
    "regularization",
    "optimization",
    "normalization",
    "data-augmentation",
    "generative-models",
    "training-tools",
)

REQUIRED_SECTIONS: tuple[str, ...] = ("Key idea", "Key numbers", "Why it matters", "Roadmap links")

# A note is a few hundred words; anything far bigger is not a note (and would bloat the index).
MAX_NOTE_BYTES = 64_000

_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# ftfy undoes mojibake (UTF-8 read as cp1252) as for every other feed; quotes, ligatures and
# widths are left alone so that code and formulas in a note stay exactly as written.
REPAIR = ftfy.TextFixerConfig(
    unescape_html=False, uncurl_quotes=False, fix_latin_ligatures=False, fix_character_width=False, normalization="NFC"
)

# Kept out of the embedded and prompted text of every chunk: identifiers and bibliography
# that would only add noise there (the header line carries authors, year and venue once).
# Title and section stay in, as for the other feeds: they tell each chunk what it is about.
HIDDEN_KEYS = ("source", "page", "url", "version", "feed", "kind", "authors", "year", "arxiv", "topics")


# New-style ids (April 2007 on): YYMM.NNNN until 2014, YYMM.NNNNN from 2015; optional vN.
_NEW_ID = re.compile(r"^(?P<yy>\d{2})(?P<mm>0[1-9]|1[0-2])\.(?P<num>\d{4,5})(?P<v>v[1-9]\d*)?$")
# Old-style ids: archive[.SUBCLASS]/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD_ID = re.compile(r"^[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{2}(?:0[1-9]|1[0-2])\d{3}(?:v[1-9]\d*)?$")


def is_arxiv_id(text: str) -> bool:
    """True for a well-formed bare arXiv id (new or old style, optional version)."""
    m = _NEW_ID.match(text)
    if m:
        # Five-digit sequence numbers started in January 2015; before that there were four.
        five_digit_era = (int(m["yy"]), int(m["mm"])) >= (15, 1) and int(m["yy"]) < 90
        return len(m["num"]) == (5 if five_digit_era else 4) and (int(m["yy"]), int(m["mm"])) >= (7, 4)
    return bool(_OLD_ID.match(text))


class PaperNoteError(TutorError):
    """A paper note that cannot be read; the message names the file."""


class PaperMeta(BaseModel):
    """The front matter of one paper note."""

    model_config = ConfigDict(extra="forbid", strict=False)

    title: str = Field(min_length=3, max_length=300, description="The paper's exact title.")
    authors: list[str] = Field(min_length=1, max_length=20, description="First authors in order; 'et al.' may end the list.")
    year: int = Field(ge=1900, le=2100, description="Publication year of the venue version.")
    venue: str = Field(min_length=2, max_length=200, description="Journal, conference or 'arXiv preprint' / technical report.")
    arxiv: str | None = Field(description="arXiv identifier (e.g. '1706.03762'), or null when the paper has none.")
    url: str = Field(pattern=r"^https?://\S+$", description="arXiv abs page, DOI link or official page.")
    topics: list[str] = Field(min_length=1, description="Roadmap topic names from ROADMAP_TOPICS.")

    @field_validator("arxiv", mode="before")
    @classmethod
    def _arxiv_is_a_string(cls, value: object) -> object:
        # YAML reads an unquoted 1706.03762 as a float and silently drops trailing zeros
        # (e.g. 1810.04805 stays, but 2001.08360 would lose its last digit), so insist on quotes.
        if value is not None and not isinstance(value, str):
            raise ValueError("must be a quoted string such as '1706.03762' (or null)")
        if value is not None and not is_arxiv_id(value):
            raise ValueError(f"'{value}' is not an arXiv id like 2101.00001 or hep-th/9901001")
        return value

    @field_validator("authors")
    @classmethod
    def _authors_non_blank(cls, value: list[str]) -> list[str]:
        if any(not isinstance(a, str) or not a.strip() for a in value):
            raise ValueError("every author must be a non-empty name")
        return [a.strip() for a in value]

    @field_validator("topics")
    @classmethod
    def _known_topics(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in ROADMAP_TOPICS]
        if unknown:
            raise ValueError(f"unknown topic(s) {', '.join(unknown)}")
        if len(set(value)) != len(value):
            raise ValueError("a topic is listed twice")
        return value

    def authors_text(self) -> str:
        """'A, B, C et al.' rather than 'A, B, C, et al.'."""
        names = [a for a in self.authors if a.lower() not in ("et al.", "et al")]
        text = ", ".join(names)
        return f"{text} et al." if len(names) < len(self.authors) else text


def split_front_matter(raw: str) -> tuple[str, str]:
    """Return (yaml_text, body) of a note that starts with a '---' fenced front matter."""
    lines = raw.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ValueError("does not start with a '---' front matter block")
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :])
    raise ValueError("front matter has no closing '---' line")


def _check_body(body: str) -> None:
    if not re.search(r"^# \S", body, flags=re.MULTILINE):
        raise ValueError("body has no '# Title' heading")
    headings = re.findall(r"^## +(.+?)\s*$", body, flags=re.MULTILINE)
    missing = [s for s in REQUIRED_SECTIONS if s not in headings]
    if missing:
        raise ValueError(f"body lacks section(s) {', '.join('## ' + m for m in missing)}")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "front matter"
    msg = err["msg"].removeprefix("Value error, ")
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"field '{where}': {msg}{more}"


def parse_paper_note(path: Path) -> Document:
    """Read one note into a Document; raise PaperNoteError (one line, naming the file) if malformed."""
    path = Path(path)
    slug = path.stem
    try:
        if not _SLUG_RE.match(slug):
            raise ValueError("file name must be a lower-case slug like vaswani2017-attention.md")
        size = path.stat().st_size
        if size > MAX_NOTE_BYTES:
            raise ValueError(f"is {size} bytes; a note must be under {MAX_NOTE_BYTES}")
        raw = ftfy.fix_text(path.read_bytes().decode("utf-8"), config=REPAIR)
        fm_text, body = split_front_matter(raw)
        data = yaml.safe_load(fm_text)
        if not isinstance(data, dict):
            raise ValueError("front matter is not a YAML mapping")
        meta = PaperMeta.model_validate(data)
        body = body.strip()
        _check_body(body)
    except ValidationError as exc:
        raise PaperNoteError(f"paper note {path.name}: {_first_error(exc)}") from None
    except UnicodeDecodeError:
        raise PaperNoteError(f"paper note {path.name}: is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise PaperNoteError(f"paper note {path.name}: front matter is not valid YAML{where}") from None
    except (ValueError, OSError) as exc:
        raise PaperNoteError(f"paper note {path.name}: {exc}") from None

    source = f"paper:{slug}"
    authors = meta.authors_text()
    header = f"{meta.title} ({authors}, {meta.year}, {meta.venue})"
    metadata = {
        "feed": FEED,
        "source": source,
        "title": meta.title,
        "section": "",
        "url": meta.url,
        "version": None,
        "page": None,
        "authors": authors,
        "year": meta.year,
        "arxiv": meta.arxiv,
        "topics": ", ".join(meta.topics),
        "kind": "markdown",
    }
    return Document(
        id_=source,
        text=f"{header}\n\n{body}\n",
        metadata=metadata,
        excluded_embed_metadata_keys=list(HIDDEN_KEYS),
        excluded_llm_metadata_keys=list(HIDDEN_KEYS),
    )


def load_paper_notes_with_problems(folder: Path | None = None) -> tuple[list[Document], list[str]]:
    """All well-formed notes in ``folder`` (default: the shipped corpus), plus one line per bad note.

    A malformed note never stops the others from loading. A missing folder is itself a problem.
    """
    folder = Path(folder) if folder is not None else DEFAULT_FOLDER
    if not folder.is_dir():
        return [], [f"paper notes folder {folder} does not exist"]
    docs: list[Document] = []
    problems: list[str] = []
    for path in sorted(folder.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        try:
            docs.append(parse_paper_note(path))
        except PaperNoteError as exc:
            problems.append(str(exc))
    return docs, problems


def load_paper_notes(
    folder: Path | None = None, on_problem: Callable[[str], None] | None = None
) -> list[Document]:
    """The well-formed notes as Documents; each malformed note is passed to ``on_problem``
    (default: logged as a warning) and skipped."""
    docs, problems = load_paper_notes_with_problems(folder)
    report = on_problem or log.warning
    for line in problems:
        report(line)
    return docs
