"""Split Documents into retrievable nodes: by Markdown heading, code blocks whole.

llama-index's ``MarkdownNodeParser`` does the heading split (it already ignores ``#`` lines
inside ``` fences, so Python comments in snippets are not mistaken for headings). Three
things it does not do, which are written here by hand:

* its ``header_path`` is the path of the *parents* only, joined by "/", which collides with
  headings such as "Python - TensorFlow/Keras"; we want the full path including the node's
  own heading, joined by " > ", as the citation's ``section``;
* long sections are not split at all; llama-index's ``SentenceSplitter`` can split them by
  tokens but has no notion of fences and would cut a code block in half. So a section is
  cut into blocks (paragraphs and whole fenced blocks), the blocks are packed into chunks of
  at most ``chunk_size`` tokens, and only a prose block that alone is too long goes through
  ``SentenceSplitter``. A code block longer than a chunk stays one (long) chunk: a half
  snippet is worse for a learner than a long one;
* a document's single H1 is its title, not a section: it is dropped from the path so
  sections read "Deep Learning for Data Science > Code Snippets > Example: ...";
* a section that only points elsewhere (the paper notes' "Roadmap links", "See also", a list
  of bare links) is navigation, not content: its chunks carry ``navigation=True`` so the
  ranking can put them after every passage that explains something. The flag is kept out of
  the embedded text, so it changes no vector.

Tokens are counted with the embedding model's own tokenizer so a chunk fits its window.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from llama_index.core.node_parser import MarkdownNodeParser, SentenceSplitter
from llama_index.core.schema import (
    BaseNode,
    Document,
    MetadataMode,
    NodeRelationship,
    TextNode,
    TransformComponent,
)

from knowledge.navigation import is_navigation
from tutor.config import get_settings

SECTION_SEPARATOR = " > "
# A separator no heading contains, so the parent path can be split back apart safely.
_RAW_SEPARATOR = "\x1f"
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
@lru_cache(maxsize=4)
def token_counter(model: str | None = None) -> Callable[[str], list]:
    """The embedding model's tokenizer as ``text -> token ids`` (no special tokens)."""
    from transformers import AutoTokenizer

    from knowledge.embed import resolve_model_path

    tokenizer = AutoTokenizer.from_pretrained(str(resolve_model_path(model or get_settings().embed_model)))

    def encode(text: str) -> list:
        return tokenizer.encode(text, add_special_tokens=False, verbose=False)

    return encode


def split_blocks(text: str) -> list[tuple[str, bool]]:
    """Cut Markdown into ``(block, is_code)``: blank-line paragraphs and whole fenced blocks."""
    blocks: list[tuple[str, bool]] = []
    current: list[str] = []
    fence: str | None = None

    def flush(is_code: bool = False) -> None:
        if current and "".join(current).strip():
            blocks.append(("\n".join(current).strip("\n"), is_code))
        current.clear()

    for line in text.split("\n"):
        match = _FENCE.match(line)
        if fence is None and match:
            flush()
            fence = match.group(1)
            current.append(line)
        elif fence is not None:
            current.append(line)
            if line.strip().startswith(fence) and len(current) > 1:
                fence = None
                flush(is_code=True)
        elif not line.strip():
            flush()
        else:
            current.append(line)
    # An unclosed fence runs to the end of the section; still one code block.
    flush(is_code=fence is not None)
    return blocks


def _sha(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def node_id(source_key: str, index: int, text: str) -> str:
    """Deterministic node id (a UUID-shaped string, as Qdrant requires) for re-runs to overwrite, not duplicate."""
    digest = _sha(source_key, str(index), text)
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


class TutorNodeParser(TransformComponent):
    """Documents → chunk nodes with ``section`` metadata and deterministic ids."""

    chunk_size: int = 256
    chunk_overlap: int = 32
    embed_model: str | None = None

    def __init__(self, chunk_size: int | None = None, chunk_overlap: int | None = None, embed_model: str | None = None, **kw: Any):
        settings = get_settings()
        super().__init__(
            chunk_size=chunk_size or settings.chunk_size,
            chunk_overlap=settings.chunk_overlap if chunk_overlap is None else chunk_overlap,
            embed_model=embed_model or settings.embed_model,
            **kw,
        )

    # -- helpers ------------------------------------------------------------------------
    def _count(self, text: str) -> int:
        return len(token_counter(self.embed_model)(text))

    def _sentence_splitter(self, budget: int) -> SentenceSplitter:
        return SentenceSplitter(
            chunk_size=budget,
            chunk_overlap=min(self.chunk_overlap, budget // 4),
            tokenizer=token_counter(self.embed_model),
        )

    def _pack(self, body: str, budget: int) -> list[str]:
        """Pack blocks greedily into chunks of ≤ budget tokens; fences are never cut."""
        if self._count(body) <= budget:
            return [body]
        pieces: list[str] = []
        for block, is_code in split_blocks(body):
            if not is_code and self._count(block) > budget:
                pieces.extend(self._sentence_splitter(budget).split_text(block))
            else:
                pieces.append(block)
        chunks: list[str] = []
        current: list[str] = []
        used = 0
        for piece in pieces:
            size = self._count(piece)
            # A heading or one-line lead-in stays with the block it introduces, even when
            # that makes the chunk run over: alone it would be a useless hit.
            if current and used + size > budget and used >= budget // 4:
                chunks.append("\n\n".join(current))
                current, used = [], 0
            current.append(piece)
            used += size + 1
        if current:
            chunks.append("\n\n".join(current))
        return chunks

    def _sections(self, doc: BaseNode) -> list[tuple[str, str]]:
        """``(section path, section text)`` pairs for one document."""
        kind = doc.metadata.get("kind", "markdown")
        text = doc.get_content(metadata_mode=MetadataMode.NONE)
        base = doc.metadata.get("section", "") or ""
        if kind != "markdown":
            return [(base, text)]
        parser = MarkdownNodeParser(header_path_separator=_RAW_SEPARATOR, include_prev_next_rel=False)
        title = (doc.metadata.get("title") or "").strip()
        h1s = [m.group(2) for line in _outside_fences(text) if (m := _HEADING.match(line)) and len(m.group(1)) == 1]
        drop_h1 = len(h1s) == 1
        out = []
        for node in parser.get_nodes_from_node(Document(text=text)):
            parents = [_clean(p) for p in (node.metadata.get("header_path") or "").split(_RAW_SEPARATOR) if p.strip()]
            body = node.get_content(metadata_mode=MetadataMode.NONE)
            first = body.split("\n", 1)[0]
            match = _HEADING.match(first)
            own = [match.group(2)] if match else []
            path = parents + own
            if drop_h1 and path and path[0] == h1s[0]:
                path = path[1:]
            elif title and path and path[0] == title:
                path = path[1:]
            if base:
                path = [base, *path]
            out.append((SECTION_SEPARATOR.join(path), body))
        return out

    # -- TransformComponent ---------------------------------------------------------------
    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[BaseNode]:
        out: list[BaseNode] = []
        for doc in nodes:
            metadata_len = self._count(doc.get_metadata_str(MetadataMode.EMBED)) + 4
            budget = max(32, self.chunk_size - metadata_len)
            index = 0
            for section, body in self._sections(doc):
                if not body.strip():
                    continue
                # A heading with nothing under it adds no knowledge; it lives on in the path.
                if _HEADING.match(body.strip()) and "\n" not in body.strip():
                    continue
                navigation = is_navigation(section, body)
                for chunk in self._pack(body, budget):
                    if not chunk.strip():
                        continue
                    metadata = dict(doc.metadata)
                    metadata["section"] = section
                    if navigation:
                        metadata["navigation"] = True
                    node = TextNode(
                        id_=node_id(doc.node_id, index, chunk),
                        text=chunk,
                        metadata=metadata,
                        # The flag is for ranking only: out of the embedded text (vectors stay
                        # as they were) and out of what the LLM reads.
                        excluded_embed_metadata_keys=[*doc.excluded_embed_metadata_keys, "navigation"],
                        excluded_llm_metadata_keys=[*doc.excluded_llm_metadata_keys, "navigation"],
                    )
                    node.relationships[NodeRelationship.SOURCE] = doc.as_related_node_info()
                    out.append(node)
                    index += 1
        return out


def _clean(heading: str) -> str:
    """Heading text without closing '#'s or padding, as in the path."""
    return re.sub(r"\s*#*\s*$", "", heading).strip()


def _outside_fences(text: str):
    fence = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            yield line


def parse_documents(documents: Sequence[Document], **kw: Any) -> list[BaseNode]:
    """Convenience: run the parser once over documents."""
    return TutorNodeParser(**kw)(documents)
