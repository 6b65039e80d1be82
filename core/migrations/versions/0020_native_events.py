"""Activities mirrored as platforms' own events (Discord Scheduled Events)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "native_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("event.id"), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("space_id", sa.String(length=64), nullable=False),
        sa.Column("native_id", sa.String(length=64), nullable=False),
        sa.UniqueConstraint("event_id", "platform", "space_id"),
    )
    op.create_index("ix_native_event_event_id", "native_event", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_native_event_event_id", table_name="native_event")
    op.drop_table("native_event")
