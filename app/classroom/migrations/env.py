"""Alembic's entry point: run the migrations on the connection the server hands in."""

from __future__ import annotations

from alembic import context

from app.classroom import models_data  # noqa: F401 - its tables join Base.metadata
from app.classroom.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
