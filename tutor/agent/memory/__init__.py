"""What the tutor remembers: users, sessions, messages, runs, quiz attempts, mastery.

``models.py`` holds the SQLAlchemy tables, ``repository.py`` the only code that runs SQL,
``migrations/`` the Alembic history that creates and upgrades the schema.
"""

from tutor.agent.memory.repository import Memory, open_memory

__all__ = ["Memory", "open_memory"]
