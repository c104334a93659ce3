"""One harvested object → one llama-index Document: the text a chunk starts with and its citation fields."""

from __future__ import annotations

import dataclasses
import inspect

from llama_index.core import Document

from knowledge.citation import METADATA_KEYS
from knowledge.readers.api_docs.links import url_for
from knowledge.readers.api_docs.signatures import signature
from knowledge.readers.api_docs.walk import Entry, own_doc

FEED = "docs"

# Metadata that identifies a passage but only adds noise to its embedding or the LLM prompt.
HIDDEN_KEYS = ["source", "page", "url", "version", "feed"]


# Hard ceiling per Document. A few docstrings (transformers' TrainingArguments) run past
# 30k characters; beyond this the tail is argument trivia that costs embedding time and
# is still reachable through the per-method Documents.
MAX_TEXT_CHARS = 24_000


def _render(entry: Entry, doc: str) -> str:
    kind = entry.kind
    sig = "" if kind == "object" else signature(entry.obj, drop_first=kind == "method")
    # First line "class torch.nn.LSTM(input_size, ...)": the name and call shape lead every
    # chunk's first window, where both BM25 and the embedding weigh them most.
    lines = [f"{kind} {entry.path}{sig}"]
    if kind == "class":
        if entry.bases:
            lines.append("Bases: " + ", ".join(entry.bases))
    if kind == "method":
        lines.append(f"Method of {entry.owner}.")
    lines += ["", doc]
    if entry.methods:
        lines += ["", f"Methods and properties of {entry.path}:", *entry.methods]
    text = "\n".join(lines).strip()
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rsplit("\n", 1)[0] + "\n[… truncated]"
    return text


def _is_generated_dataclass_doc(obj: object, doc: str) -> bool:
    # @dataclass writes "Name(field: type = default, ...)" into an empty __doc__: that is
    # a signature, not documentation, and the object counts as undocumented.
    return dataclasses.is_dataclass(obj) and inspect.isclass(obj) and "\n" not in doc and doc.startswith(f"{obj.__name__}(")


def to_document(entry: Entry, version: str | None, root: str) -> Document | None:
    # The object's own docstring only: inspect.getdoc would hand a bare subclass its
    # parent's text, duplicating the parent's Document under another name.
    doc = own_doc(type(entry.obj) if entry.kind == "object" else entry.obj)
    if not doc or _is_generated_dataclass_doc(entry.obj, doc):
        return None
    text = _render(entry, doc)
    source = f"docs:{entry.path}"
    metadata = dict.fromkeys(METADATA_KEYS)
    metadata.update(
        source=source,
        title=entry.path,
        section=entry.module,
        page=None,
        url=url_for(entry, root),
        version=version,
        feed=FEED,
    )
    return Document(
        text=text,
        id_=source,
        metadata=metadata,
        excluded_embed_metadata_keys=list(HIDDEN_KEYS),
        excluded_llm_metadata_keys=list(HIDDEN_KEYS),
    )
