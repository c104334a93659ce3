"""Alembic environment: run migrations on the connection ``repository.open_memory`` hands over."""

from alembic import context

from tutor.agent.memory.models import Base

connection = context.config.attributes.get("connection")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
