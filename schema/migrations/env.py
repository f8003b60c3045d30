"""Alembic environment: migrations run on a connection handed in by ``schema.migrations``, for
one app's database (``config.attributes["app"]``), against that app's tables."""

from __future__ import annotations

from alembic import context

from schema.tables.databases import metadata_of

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through schema.migrations.upgrade(engine, app)")

context.configure(
    connection=connection,
    target_metadata=metadata_of(context.config.attributes["app"]),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
