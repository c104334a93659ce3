"""The deep-learning tutor.

Faces: ``app.py`` + ``tutor/web/`` (the Gradio page) and ``tutor/cli.py`` + ``tutor/commands/``
(the ``tutor`` command). Below them ``tutor/agent/`` (one conversation turn, its tools and
memory), ``tutor/llm/`` (presets, model files, backends) and ``tutor/lab/`` (experiment recipes
and their runner); the knowledge base is the sibling package ``knowledge/``. ``tutor/config.py``,
``tutor/errors.py`` and ``tutor/io.py`` are leaves every layer may import (docs/architecture.md).
"""

__version__ = "0.1.0"
