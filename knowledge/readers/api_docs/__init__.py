"""Harvest API documentation from the libraries installed in this environment.

``harvest("torch.nn")`` imports the package and returns one llama-index ``Document`` per
public object: the qualified name, its call signature and its cleaned docstring, with the
installed version in the metadata, so a citation reads "torch 2.13.0, torch.nn.LSTM" and
always matches the code the user actually runs (unlike docs scraped from a website).

What counts as public, in order:
  1. names in the module's ``__all__`` when it has one, otherwise every name without a
     leading underscore; private names are dropped even when ``__all__`` lists them;
  2. without ``__all__``, an object must be *defined* inside the harvested package
     (``torch.nn.functional.Tensor`` is an import of ``torch.Tensor``, not part of torch.nn);
     C builtins only carry the top-level module (``F.conv2d.__module__ == "torch"``), so
     for them the top-level package is enough;
  3. every object is documented once, under the first (shallowest) public path met in a
     breadth-first walk, so ``torch.nn.LSTM`` wins over ``torch.nn.modules.rnn.LSTM``;
  4. objects without a docstring are skipped: a bare signature retrieves badly and cites
     nothing useful;
  5. submodules are followed when ``__all__`` names them (``torch.optim.lr_scheduler``) or
     when ``EXTRA_SUBMODULES`` says so (``torch.nn`` has no ``__all__`` but users live in
     ``torch.nn.functional``); never blindly, since packages like llama_index bind hundreds
     of internal submodules as attributes.

Methods. A class Document ends with an index of its own public methods (name, signature,
first docstring line), so "which Module method freezes parameters?" lands on the class.
A method whose own docstring is substantial (``METHOD_DOC_MIN_CHARS``) also gets its own
Document (``docs:torch.nn.Module.register_forward_hook``): folding long method docs into
the class would bury them in chunks titled after the class and cite the wrong object.
Inherited methods are documented once, on the class that defines them.

Huge packages are curated (``CURATED``): transformers exposes thousands of lazily imported
model classes whose docstrings are near-identical templates; the default corpus takes the
objects users actually call instead, so it embeds in minutes on a laptop.

Written on ``inspect`` rather than griffe: griffe reads source statically and cannot see
objects built at import time (transformers' lazy module, torch's C builtins, generated
docstrings), which are exactly the ones people ask about.

The work is split by job: ``walk`` finds the public objects, ``curation`` holds the tables of
what to take from huge packages, ``docstrings`` cleans reST/Markdown/LaTeX docstrings,
``signatures`` renders call signatures, ``render`` turns an object into a Document, and
``links`` finds its version and documentation page. ``benchmarks/docs_harvest.py`` times it.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable, Iterator

from llama_index.core import Document

from knowledge.readers.api_docs.docstrings import clean_docstring
from knowledge.readers.api_docs.links import version_of
from knowledge.readers.api_docs.render import FEED, HIDDEN_KEYS, to_document
from knowledge.readers.api_docs.walk import import_package, walk
from tutor.errors import TutorError

__all__ = ["FEED", "HIDDEN_KEYS", "clean_docstring", "harvest"]

# --------------------------------------------------------------------------- public API


def harvest(
    package: str,
    progress: Callable[[int, int], None] | None = None,
    limit: int | None = None,
) -> list[Document]:
    """One Document per public, documented object of an installed package or module.

    ``progress(done, total)`` is called as candidate names are resolved (the slow part for
    lazy packages); raising from it (e.g. KeyboardInterrupt) cancels the harvest.
    ``limit`` stops after that many Documents. The same environment always yields the
    same Documents in the same order, so ingestion by content hash stays incremental.
    """
    if limit is not None and limit < 1:
        raise TutorError(f"limit must be at least 1, got {limit}.")
    docs: list[Document] = []
    with _quiet(package.split(".")[0]):
        root = import_package(package)
        version = version_of(root)
        for entry in walk(root, progress):
            doc = to_document(entry, version, root.__name__)
            if doc is None:
                continue
            docs.append(doc)
            if limit is not None and len(docs) >= limit:
                break
    return docs


@contextlib.contextmanager
def _quiet(top: str) -> Iterator[None]:
    """Silence the package's own chatter while we poke at every attribute.

    Touching transformers' lazy names logs one "requires torchvision" line per image
    processor, and torch warns about deprecated aliases; none of it concerns the user, who
    is watching an ingestion progress bar. Levels are restored afterwards.
    """
    logger = logging.getLogger(top)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
