"""CLI commands for asking the tutor (being built)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this group's commands to the top-level app."""
