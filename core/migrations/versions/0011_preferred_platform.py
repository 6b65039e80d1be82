"""A person's preferred platform, and the one they used last

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE (SQLite 3.35+ drops columns too): a batch copy of `person` would trip the
# foreign keys that point at it.


def upgrade() -> None:
    op.add_column("person", sa.Column("preferred_platform", sa.String(16), nullable=True))
    op.add_column("person", sa.Column("last_platform", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("person", "last_platform")
    op.drop_column("person", "preferred_platform")
