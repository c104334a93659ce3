"""Evaluation suites over the public APIs, and their datasets."""
