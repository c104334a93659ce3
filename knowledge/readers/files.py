"""Read the user's own files and folders (and the roadmap) into llama-index Documents.

One reader for every local file, so the roadmap feed and the user feed behave the same:
.md/.markdown/.txt as text, .pdf page by page (pypdf, 1-based ``page`` metadata),
.html via BeautifulSoup (headings and <pre> blocks turned into Markdown so the node
parser can keep the section path and code whole), .ipynb via nbformat (markdown cells
plus code cells as fenced blocks) and .py as source.

A file that cannot be read (corrupt, empty, unsupported, too big) is never fatal: it becomes
one line in ``problems`` and the rest goes on. Only a path that does not exist at all is
the caller's mistake and raises ``TutorError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from llama_index.core import Document

from knowledge.citation import METADATA_KEYS
from knowledge.text import repair
from tutor.config import get_settings
from tutor.errors import TutorError

# How each suffix is read and how the node parser should treat the text it yields.
KIND_BY_SUFFIX = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".pdf": "text",
    ".html": "markdown",
    ".htm": "markdown",
    ".ipynb": "markdown",
    ".py": "code",
}
SUPPORTED_SUFFIXES = tuple(sorted(KIND_BY_SUFFIX))

# Metadata that identifies a passage but would only add noise to its embedding vector or
# the LLM prompt; title and section stay in, they help both.
HIDDEN_KEYS = ["source", "page", "url", "version", "feed", "kind"]


class FileProblem(Exception):
    """One file could not be read; the message is the one line shown to the user."""


def default_source(path: Path, feed: str) -> str:
    """Stable source id: the absolute path for user files, the file name for shipped feeds."""
    if feed == "user":
        return f"user:{path.resolve()}"
    return f"{feed}:{path.name}"


def make_document(text: str, *, source: str, feed: str, kind: str, doc_id: str | None = None, **meta) -> Document:
    """A Document carrying every citation key, with noisy keys hidden from embedding/LLM text."""
    metadata = {key: meta.get(key) for key in METADATA_KEYS}
    metadata.update(source=source, feed=feed, kind=kind)
    metadata["title"] = metadata["title"] or ""
    metadata["section"] = metadata["section"] or ""
    # Qdrant payloads and the docstore want plain JSON values; drop Nones so metadata stays small.
    metadata = {k: v for k, v in metadata.items() if v is not None}
    return Document(
        text=text,
        id_=doc_id or source,
        metadata=metadata,
        excluded_embed_metadata_keys=list(HIDDEN_KEYS),
        excluded_llm_metadata_keys=list(HIDDEN_KEYS),
    )


def _decode(data: bytes, path: Path) -> str:
    if b"\x00" in data[:8192]:
        raise FileProblem(f"{path}: looks like a binary file, not text; skipped")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Not UTF-8: let charset-normalizer (already a requests dependency) guess, rather
        # than hard-coding latin-1 and silently garbling other encodings.
        from charset_normalizer import from_bytes

        matches = from_bytes(data)
        # Short Western text fits several code pages equally well; Windows-1252 is by far the
        # most common legacy encoding for English/Western notes, so it wins a tie.
        if any(m.encoding == "cp1252" for m in matches):
            return data.decode("cp1252")
        best = matches.best()
        if best is None:
            raise FileProblem(f"{path}: text encoding not recognised; skipped") from None
        return str(best)


def _first_heading(text: str) -> str:
    in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        elif not in_fence and line.startswith("# "):
            return line[2:].strip()
    return ""


def _read_text(path: Path, data: bytes) -> list[tuple[str, dict]]:
    text = repair(_decode(data, path))
    title = _first_heading(text) if path.suffix.lower() in (".md", ".markdown") else ""
    return [(text, {"title": title or path.stem})]


def _read_py(path: Path, data: bytes) -> list[tuple[str, dict]]:
    return [(repair(_decode(data, path)), {"title": path.name})]


def _read_pdf(path: Path, data: bytes) -> list[tuple[str, dict]]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise FileProblem(f"{path}: PDF is encrypted; skipped")
        info_title = ""
        try:
            info_title = (reader.metadata.title or "") if reader.metadata else ""
        except Exception:  # a broken info dict must not cost us the pages
            info_title = ""
        title = repair(str(info_title)).strip() or path.stem
        pages = []
        for number, page in enumerate(reader.pages, start=1):
            text = repair(page.extract_text() or "")
            if text.strip():
                pages.append((text, {"title": title, "page": number}))
    except FileProblem:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise FileProblem(f"{path}: not a readable PDF ({exc.__class__.__name__}); skipped") from None
    return pages


def _read_html(path: Path, data: bytes) -> list[tuple[str, dict]]:
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(_decode(data, path), "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(["script", "style", "noscript", "head"]):
        tag.decompose()
    # Rewrite headings and preformatted blocks as Markdown so the Markdown node parser gives
    # HTML pages the same section paths and whole code blocks as .md files.
    for pre in soup.find_all("pre"):
        pre.replace_with(NavigableString("\n```\n" + pre.get_text() + "\n```\n"))
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(NavigableString("\n\n" + "#" * level + " " + heading.get_text(" ", strip=True) + "\n\n"))
    text = soup.get_text()
    # Collapse the blank-line runs that block-level tags leave behind.
    lines = [line.rstrip() for line in text.splitlines()]
    compact: list[str] = []
    for line in lines:
        if line or (compact and compact[-1]):
            compact.append(line)
    text = repair("\n".join(compact).strip())
    return [(text, {"title": title or _first_heading(text) or path.stem})]


def _read_ipynb(path: Path, data: bytes) -> list[tuple[str, dict]]:
    import nbformat

    try:
        notebook = nbformat.reads(_decode(data, path), as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError, KeyError, ValueError, AttributeError) as exc:
        raise FileProblem(f"{path}: not a readable notebook ({exc.__class__.__name__}); skipped") from None
    language = (notebook.metadata.get("kernelspec") or {}).get("language") or "python"
    parts = []
    for cell in notebook.cells:
        source = cell.get("source", "")
        if not source.strip():
            continue
        if cell.cell_type == "markdown":
            parts.append(source)
        elif cell.cell_type == "code":
            parts.append(f"```{language}\n{source}\n```")
    text = repair("\n\n".join(parts))
    return [(text, {"title": _first_heading(text) or path.stem})]


_READERS = {
    ".md": _read_text,
    ".markdown": _read_text,
    ".txt": _read_text,
    ".pdf": _read_pdf,
    ".html": _read_html,
    ".htm": _read_html,
    ".ipynb": _read_ipynb,
    ".py": _read_py,
}


def load_file(path: Path, feed: str = "user", source: str | None = None, max_bytes: int | None = None) -> list[Document]:
    """Read one file into Documents (one per PDF page, else one). Raises ``FileProblem``."""
    path = Path(path)
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise FileProblem(f"{path}: unsupported file type '{suffix or path.name}' (supported: {', '.join(SUPPORTED_SUFFIXES)}); skipped")
    if max_bytes is None:
        max_bytes = int(get_settings().max_file_mb * 1024 * 1024)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FileProblem(
                f"{path}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB limit per file "
                "(raise TUTOR_MAX_FILE_MB to ingest it); skipped"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise FileProblem(f"{path}: cannot be read ({exc.strerror or exc}); skipped") from None
    if not data.strip():
        raise FileProblem(f"{path}: file is empty; skipped")
    parts = reader(path, data)
    parts = [(text, meta) for text, meta in parts if text.strip()]
    if not parts:
        raise FileProblem(f"{path}: no text found in it; skipped")
    source = source or default_source(path, feed)
    url = path.resolve().as_uri() if feed == "user" else None
    docs = []
    for text, meta in parts:
        page = meta.get("page")
        # PDF pages share the file's source id (so a changed file replaces them all) but each
        # needs its own document id.
        doc_id = f"{source}#page={page}" if page else source
        docs.append(make_document(text, source=source, feed=feed, kind=KIND_BY_SUFFIX[suffix], doc_id=doc_id, url=url, **meta))
    return docs


def _walk(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        # Hidden files and folders (.git, .ipynb_checkpoints, editor swap files) are never content.
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        if path.is_file():
            yield path


def load_paths(paths: Iterable[str | Path], feed: str = "user", progress=None) -> tuple[list[Document], list[str]]:
    """Read files and folders. Returns ``(documents, problems)``; one line per skipped file.

    Raises ``TutorError`` when a named path does not exist (a typo should stop the command,
    not be half-ingested).
    """
    paths = [Path(p).expanduser() for p in paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise TutorError(f"no such file or folder: {', '.join(missing)}")
    files: list[Path] = []
    for path in paths:
        files.extend(_walk(path) if path.is_dir() else [path])
    docs: list[Document] = []
    problems: list[str] = []
    for index, path in enumerate(files):
        try:
            docs.extend(load_file(path, feed=feed))
        except FileProblem as exc:
            problems.append(str(exc))
        except Exception as exc:  # a reader library choking on a malformed file is still one file's problem
            problems.append(f"{path}: could not be read ({exc.__class__.__name__}: {exc}); skipped")
        if progress is not None:
            progress(done=index + 1, total=len(files), stage="reading files")
    return docs, problems
