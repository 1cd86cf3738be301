"""The one declarative base: constraint naming convention, typed columns, timestamps."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import DateTime, ForeignKey, MetaData, Table, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
        datetime: DateTime(timezone=True),
    }

    if TYPE_CHECKING:
        # SQLAlchemy types it a FromClause (a class may be mapped to a join or a subquery); every model here
        # is declared with __tablename__, so it is a Table.
        __table__: ClassVar[Table]


# ``ForeignKey.info`` key of a reference checked once per statement: its value, the ON DELETE action
PER_STATEMENT = "checked_per_statement"


def references(target: str, *, ondelete: str = "restrict") -> ForeignKey:
    """A reference to ``target`` ("table.column") checked once per statement by triggers (migration
    943588b88e02) instead of a row-by-row foreign key: the same guarantee — a missing row refused,
    a referred-to row kept (or, with ``ondelete="cascade"``, its referring rows deleted with it),
    the same error (SQLSTATE 23503, the foreign key's name) — at a fraction of the cost for the
    tables an import bulk-writes. The models keep it as a ForeignKey (joins and the unit of work
    see it); the database has no such constraint (``models/migrations/env.py`` leaves it out of
    the comparison), and ``tests/integration/test_references.py`` checks the triggers against it."""
    return ForeignKey(target, info={PER_STATEMENT: ondelete})


def checked_per_statement(constraint: Any) -> bool:
    """Whether a foreign key constraint of the models is one of ``references``."""
    return any(PER_STATEMENT in fk.info for fk in getattr(constraint, "elements", ()))


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
