"""PostgreSQL search reads a stored tsvector instead of computing one per row and query

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 17:00:00

Ranking and counting matches computed `to_tsvector(title || ' ' || body)` again for every
matching row of every query; a generated column computes it once, when the row is loaded,
and the GIN index is built on that column. SQLite's FTS5 index (migration 0002) is unchanged.
The column is not in the models (the loaders never write it): `migrations/env.py` leaves it
out of autogenerate's comparison.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPRESSION = "to_tsvector('english', title || ' ' || body)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_search_entry_fulltext")
    op.execute(
        f"ALTER TABLE search_entry ADD COLUMN fulltext tsvector GENERATED ALWAYS AS ({EXPRESSION}) STORED"
    )
    op.execute("CREATE INDEX ix_search_entry_fulltext ON search_entry USING gin (fulltext)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_search_entry_fulltext")
    op.execute("ALTER TABLE search_entry DROP COLUMN fulltext")
    op.execute(f"CREATE INDEX ix_search_entry_fulltext ON search_entry USING gin ({EXPRESSION})")
