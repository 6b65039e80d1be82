"""Timed waitlist offers: an activity's offer window, a registration's offer deadline

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("event", sa.Column("offer_seconds", sa.Integer(), nullable=True))
    op.add_column("registration", sa.Column("offer_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("registration", "offer_until")
    op.drop_column("event", "offer_seconds")
