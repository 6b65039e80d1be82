"""Linking accounts across platforms: one-time codes and the failed attempts

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "linkcode",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_linkcode_person_id", "linkcode", ["person_id"])
    op.create_table(
        "linkattempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_link_attempt_person_at", "linkattempt", ["person_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_link_attempt_person_at", table_name="linkattempt")
    op.drop_table("linkattempt")
    op.drop_index("ix_linkcode_person_id", table_name="linkcode")
    op.drop_table("linkcode")
