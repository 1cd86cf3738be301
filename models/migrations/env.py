"""Alembic environment: the URL comes from Bobbin's settings (or the embedded server)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import models
from core import runtime
from models.base import checked_per_statement

config = context.config
target_metadata = models.Base.metadata


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Compare everything but the models' references checked per statement (``models.base.references``):
    foreign keys to SQLAlchemy, triggers in the database."""
    return not (type_ == "foreign_key_constraint" and not reflected and checked_per_statement(obj))


def run_migrations() -> None:
    url = config.attributes.get("url") or runtime.database_url()
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, compare_type=True, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(
            connection=conn, target_metadata=target_metadata, compare_type=True, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
