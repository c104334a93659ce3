"""The deep-learning tutor: faces (CLI, Gradio), agent, LLM runtime and experiment lab."""

__version__ = "0.1.0"
