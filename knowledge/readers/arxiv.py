"""Add a paper by arXiv id: fetch its metadata and PDF, and read it one Document per page.

Used when the user runs `tutor ingest arxiv:2106.09685` (or passes the id to the ingestion
API). Network access is the fragile part, so it is fenced three ways:

* the id is validated locally first, so a typo never costs a network round-trip;
* a short TCP probe of arXiv's API host runs in a daemon thread with a hard deadline
  (a plain socket timeout does not bound DNS resolution), so an offline machine gets an
  ``OfflineError`` within seconds instead of a hang;
* the metadata query (through the ``arxiv`` package, whose HTTP calls carry no timeout of
  their own) and the PDF download also run in a daemon thread with a deadline.

A fetched paper is cached in ``dest_dir`` as ``arxiv-<id>.pdf`` plus a small JSON sidecar
with its metadata, so re-ingesting it later works offline and makes no request.
"""

from __future__ import annotations

import json
import re
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import ftfy
from llama_index.core import Document

from knowledge.readers.papers import FEED, HIDDEN_KEYS, REPAIR, is_arxiv_id
from tutor.errors import OfflineError, TutorError

API_HOST = "export.arxiv.org"  # the host the `arxiv` package queries

_PREFIXES = re.compile(r"^(?:arxiv:|https?://(?:export\.)?arxiv\.org/(?:abs|pdf)/)", re.IGNORECASE)

T = TypeVar("T")


def normalize_arxiv_id(text: str) -> str:
    """Strip an 'arXiv:' prefix or an arxiv.org abs/pdf URL; raise TutorError if the id is malformed."""
    raw = str(text).strip()
    bare = _PREFIXES.sub("", raw).removesuffix(".pdf").strip("/")
    if not is_arxiv_id(bare):
        shown = raw if len(raw) <= 60 else raw[:57] + "..."
        raise TutorError(
            f"'{shown}' is not an arXiv id; use the new form like 2106.09685 (optionally v2) "
            "or the old form like hep-th/9901001"
        )
    return bare


def _file_stem(arxiv_id: str) -> str:
    return "arxiv-" + arxiv_id.replace("/", "_")


def _offline(arxiv_id: str) -> OfflineError:
    return OfflineError(
        f"can't reach arXiv to fetch {arxiv_id}: this machine is offline; "
        "download the PDF elsewhere and `tutor ingest path/to.pdf`"
    )


def _with_deadline(fn: Callable[[], T], seconds: float) -> T:
    """Run fn in a daemon thread and wait at most `seconds`; raise TimeoutError past that.

    A daemon thread (not a ThreadPoolExecutor, whose workers are joined at exit) so that a
    call stuck in the network stack can never keep the process alive.
    """
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True, name="arxiv-fetch")
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {seconds:.0f} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def _probe(timeout: float) -> None:
    def connect() -> None:
        with socket.create_connection((API_HOST, 443), timeout=timeout):
            pass

    _with_deadline(connect, timeout + 1.0)


def _download(arxiv_id: str, dest_dir: Path, timeout: float) -> tuple[Path, dict]:
    import arxiv  # the PyPI client; imported lazily so the offline path costs nothing
    import requests  # arxiv's own HTTP dependency

    def work() -> tuple[Path, dict]:
        client = arxiv.Client(page_size=1, delay_seconds=0.0, num_retries=1)
        results = list(client.results(arxiv.Search(id_list=[arxiv_id], max_results=1)))
        if not results:
            raise TutorError(f"arXiv has no paper with id {arxiv_id}; check the id")
        paper = results[0]
        meta = {
            "arxiv": arxiv_id,
            "title": " ".join(paper.title.split()),
            "authors": [a.name for a in paper.authors],
            "year": paper.published.year,
            "venue": paper.journal_ref or "arXiv preprint",
            "url": paper.entry_id or f"https://arxiv.org/abs/{arxiv_id}",
        }
        # arxiv 4.x only reports the PDF's URL (download_pdf was removed), so fetch it
        # here, with a timeout. Write under a temporary name and rename at the end, so an
        # interrupted download never leaves a truncated PDF that a later offline run trusts.
        pdf_url = paper.pdf_url or f"https://arxiv.org/pdf/{arxiv_id}"
        pdf = dest_dir / f"{_file_stem(arxiv_id)}.pdf"
        with tempfile.NamedTemporaryFile(dir=dest_dir, suffix=".part", delete=False) as part:
            try:
                with requests.get(pdf_url, timeout=(5, 60), stream=True) as resp:
                    resp.raise_for_status()
                    for chunk in resp.iter_content(chunk_size=1 << 16):
                        part.write(chunk)
                part.close()
                Path(part.name).replace(pdf)
            finally:
                Path(part.name).unlink(missing_ok=True)
        return pdf, meta

    return _with_deadline(work, timeout)


def _read_pages(pdf: Path, meta: dict) -> list[Document]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    arxiv_id = meta["arxiv"]
    source = f"paper:arxiv-{arxiv_id}"
    authors = meta.get("authors") or []
    authors_text = ", ".join(authors[:3]) + (" et al." if len(authors) > 3 else "")
    header = f"{meta['title']} ({authors_text}, {meta.get('year')}, {meta.get('venue', 'arXiv preprint')})"
    try:
        reader = PdfReader(str(pdf))
        if reader.is_encrypted:
            raise TutorError(f"the PDF for arXiv {arxiv_id} at {pdf} is encrypted; it cannot be read")
        pages = [(i, ftfy.fix_text(page.extract_text() or "", config=REPAIR).strip()) for i, page in enumerate(reader.pages, start=1)]
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as exc:  # pypdf's failure modes on broken files
        raise TutorError(f"the PDF for arXiv {arxiv_id} at {pdf} is unreadable ({exc}); delete it and fetch again") from None
    docs = []
    for number, text in pages:
        if not text:
            continue
        metadata = {
            "feed": FEED,
            "source": source,
            "title": meta["title"],
            "section": "",
            "url": meta.get("url") or f"https://arxiv.org/abs/{arxiv_id}",
            "version": None,
            "page": number,
            "authors": ", ".join(authors),
            "year": meta.get("year"),
            "arxiv": arxiv_id,
            "topics": "",
            "kind": "text",  # PDF text: no Markdown headings to split on
        }
        docs.append(
            Document(
                id_=f"{source}#page={number}",
                text=f"{header}, page {number}\n\n{text}",
                metadata=metadata,
                excluded_embed_metadata_keys=list(HIDDEN_KEYS),
                excluded_llm_metadata_keys=list(HIDDEN_KEYS),
            )
        )
    if not docs:
        raise TutorError(f"the PDF for arXiv {arxiv_id} has no extractable text (a scanned paper?); nothing to ingest")
    return docs


def fetch_arxiv(
    arxiv_id: str,
    dest_dir: Path,
    *,
    probe_timeout: float = 4.0,
    fetch_timeout: float = 120.0,
) -> list[Document]:
    """Fetch an arXiv paper (metadata + PDF) into ``dest_dir`` and return one Document per page.

    Raises ``TutorError`` for a malformed id or an unknown paper, and ``OfflineError``
    within about ``probe_timeout`` seconds when arXiv cannot be reached. A paper already
    cached in ``dest_dir`` is read from disk without any network access.
    """
    arxiv_id = normalize_arxiv_id(arxiv_id)
    dest_dir = Path(dest_dir)
    pdf = dest_dir / f"{_file_stem(arxiv_id)}.pdf"
    sidecar = pdf.with_suffix(".json")
    if pdf.is_file() and sidecar.is_file():
        try:
            return _read_pages(pdf, json.loads(sidecar.read_text(encoding="utf-8")))
        except (ValueError, KeyError):
            pass  # a damaged cache is simply fetched again

    try:
        _probe(probe_timeout)
    except (OSError, TimeoutError):
        raise _offline(arxiv_id) from None

    dest_dir.mkdir(parents=True, exist_ok=True)
    try:
        pdf, meta = _download(arxiv_id, dest_dir, fetch_timeout)
    except TutorError:
        raise
    except TimeoutError:
        raise OfflineError(f"arXiv did not answer within {fetch_timeout:.0f} s while fetching {arxiv_id}; try again later") from None
    except OSError as exc:
        # Every requests exception is an OSError; only an HTTP status means arXiv answered.
        response = getattr(exc, "response", None)
        if response is not None:
            raise TutorError(f"arXiv answered HTTP {response.status_code} for the PDF of {arxiv_id}; try again later") from None
        raise _offline(arxiv_id) from None
    except Exception as exc:  # arxiv.HTTPError and friends: arXiv answered, but not with the paper
        raise TutorError(f"arXiv could not serve {arxiv_id} ({type(exc).__name__}); try again later") from None
    sidecar.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return _read_pages(pdf, meta)
