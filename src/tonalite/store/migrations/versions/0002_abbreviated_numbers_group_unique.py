"""a billing group's abbreviated numbers are unique

The unique constraint on (billing_group_id, line_id, short_number) lets a group's list (line_id NULL) hold a short
number twice, since no two NULLs are equal in SQL; a partial unique index holds it, on SQLite and PostgreSQL alike.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 20:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUP_LIST = sa.text("line_id IS NULL")


def upgrade() -> None:
    op.create_index(
        "uq_abbreviated_numbers_group_short_number",
        "abbreviated_numbers",
        ["billing_group_id", "short_number"],
        unique=True,
        sqlite_where=GROUP_LIST,
        postgresql_where=GROUP_LIST,
    )


def downgrade() -> None:
    op.drop_index("uq_abbreviated_numbers_group_short_number", table_name="abbreviated_numbers")
