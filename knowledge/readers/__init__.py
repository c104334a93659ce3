"""Readers turn files and feeds into llama-index Documents carrying citation metadata."""
