"""Fixtures for the knowledge tests: real embedded Qdrant, the real embedding model.

The int8 ONNX export of the embedding model takes a while on 2 cores, so it is made once
per test session and linked into each fresh data dir (the code under test still finds it
under ``state_dir/embed`` exactly as in production).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROADMAP = REPO / "knowledge" / "corpus" / "roadmap" / "deep_learning_roadmap.md"


@pytest.fixture(scope="session")
def shared_embed_dir(tmp_path_factory) -> Path:
    """One ``state_dir/embed`` folder for the whole session (the ONNX export is made once)."""
    folder = tmp_path_factory.mktemp("embed-cache")
    return folder


@pytest.fixture
def kb_home(tutor_home, shared_embed_dir, monkeypatch) -> Path:
    """A fresh data dir with small, fast knowledge settings and the shared model export."""
    from tutor.config import get_settings

    monkeypatch.setenv("TUTOR_CHUNK_SIZE", "128")
    monkeypatch.setenv("TUTOR_CHUNK_OVERLAP", "16")
    monkeypatch.setenv("TUTOR_DOCS_PACKAGES", '["torch.utils.data"]')
    get_settings.cache_clear()
    state = get_settings().state_dir
    state.mkdir(parents=True, exist_ok=True)
    os.symlink(shared_embed_dir, state / "embed")
    yield tutor_home
    from knowledge.store import close_clients

    close_clients()
    get_settings.cache_clear()


def write_pdf(path: Path, pages: list[str]) -> Path:
    """A minimal valid PDF with one line of Helvetica text per page.

    Written by hand because nothing installed writes text PDFs (pypdf only edits them); the
    cross-reference offsets are computed, so strict readers accept it.
    """
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    font_id = 3 + 2 * len(pages)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for i, text in enumerate(pages):
        page_id, content_id = 3 + 2 * i, 4 + 2 * i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 {font_id} 0 R >> >> "
            f"/Contents {content_id} 0 R >>".encode()
        )
        safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({safe}) Tj ET".encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path
