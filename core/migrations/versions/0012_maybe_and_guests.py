"""RSVP: "maybe" and guests (+1s)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 05:20:00

An activity counts its maybes (`interested`) and caps guests per person (`max_guests`); a
registration carries its guests and whether a maybe wants reminders. Plain ALTER TABLE: a batch
copy of `event` would trip the foreign keys that point at it. Seats counted so far were one per
registration, which guests=0 keeps true: no recount needed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "event", sa.Column("interested", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "event", sa.Column("max_guests", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "registration", sa.Column("guests", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "registration",
        sa.Column("remind", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("registration", "remind")
    op.drop_column("registration", "guests")
    op.drop_column("event", "max_guests")
    op.drop_column("event", "interested")
