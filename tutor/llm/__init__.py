"""LLM runtime: model presets, backends (llama.cpp, transformers, OpenAI-compatible, vLLM), tool-call parsing."""
