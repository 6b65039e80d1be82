"""Recurring activities: a series (an RRULE), its members, and occurrences pointing at it

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 12:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("community_group.id"), nullable=False),
        sa.Column("creator_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("starts_local", sa.DateTime(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "seriesmember",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("series_id", sa.Integer(), sa.ForeignKey("series.id"), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.UniqueConstraint("series_id", "person_id"),
    )
    op.create_index("ix_seriesmember_series_id", "seriesmember", ["series_id"])
    op.create_index("ix_seriesmember_person_id", "seriesmember", ["person_id"])
    op.add_column("event", sa.Column("series_id", sa.Integer(), nullable=True))
    op.create_index("ux_event_series_start", "event", ["series_id", "starts_at"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_event_series_start", table_name="event")
    op.drop_column("event", "series_id")
    op.drop_index("ix_seriesmember_person_id", table_name="seriesmember")
    op.drop_index("ix_seriesmember_series_id", table_name="seriesmember")
    op.drop_table("seriesmember")
    op.drop_table("series")
