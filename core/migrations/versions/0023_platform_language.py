"""The language a person's app reports is kept, so notices and reminders speak it too

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN: a batch copy of person would trip the foreign keys that point at it
    op.add_column("person", sa.Column("platform_locale", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("person", "platform_locale")
