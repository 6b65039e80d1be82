"""When a group chat last offered an account the start link, so it is offered once a day at most

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("identity", sa.Column("start_offered_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("identity", "start_offered_at")
