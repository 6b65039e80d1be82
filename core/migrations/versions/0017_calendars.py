"""Calendars: an activity's SEQUENCE for .ics files, a person's secret feed token

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("event", sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("person", sa.Column("calendar_token", sa.String(length=64), nullable=True))
    op.create_index("ix_person_calendar_token", "person", ["calendar_token"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_person_calendar_token", table_name="person")
    op.drop_column("person", "calendar_token")
    op.drop_column("event", "sequence")
