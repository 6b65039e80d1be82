"""Durable jobs (core.work) and posted copies of activity cards (core.livecards)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("payload", sa.String(2000), nullable=True),
        sa.UniqueConstraint("kind", "key"),
    )
    op.create_index("ix_job_status_due", "job", ["status", "due_at"])
    op.create_table(
        "card_copy",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("event.id"), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("viewer_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("locale", sa.String(16), nullable=True),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("platform", "chat_id", "message_id"),
    )
    op.create_index("ix_card_copy_event_id", "card_copy", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_card_copy_event_id", table_name="card_copy")
    op.drop_table("card_copy")
    op.drop_index("ix_job_status_due", table_name="job")
    op.drop_table("job")
