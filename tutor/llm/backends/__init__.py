"""LLM backends behind one llama-index interface (``TutorLLM``).

- ``LlamaCppLLM``: llama-cpp-python on a GGUF (CPU default).
- ``TransformersLLM``: in-process transformers, optional PEFT adapter (CUDA when present).
- ``OpenAICompatLLM``: any OpenAI-compatible server (vLLM, llama.cpp server, Ollama).
- ``vllm_server``: starts ``vllm serve`` for ``tutor serve``.

Backend classes import their heavy libraries lazily, so importing this package is cheap.
"""

from tutor.llm.backends.base import GenOptions, InProcessLLM, Piece, TutorLLM

__all__ = ["GenOptions", "InProcessLLM", "Piece", "TutorLLM"]
