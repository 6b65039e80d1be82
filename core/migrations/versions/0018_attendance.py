"""Attendance: who came to an activity (check-in), for no-show counts

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("registration", sa.Column("attended", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("registration", "attended")
