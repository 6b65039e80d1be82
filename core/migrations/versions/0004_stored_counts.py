"""stored counts: event going/waiting/heat, group members; /nearby's covering index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 08:10:00

The counts are filled from the rows by core.services.tallies.recount, the one definition of what
they count; from then on every status change keeps them in step.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime
from core.services.tallies import recount

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# /nearby's box and every column its score reads (an index-only scan)
NEARBY = [
    "latitude",
    "longitude",
    "status",
    "starts_at",
    "group_id",
    "capacity",
    "going",
    "heat",
    "heat_at",
]


def upgrade() -> None:
    with op.batch_alter_table("community_group", schema=None) as batch_op:
        batch_op.add_column(sa.Column("members", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(
            "ix_community_group_visibility_members", ["visibility", "members"], unique=False
        )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("going", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("waiting", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("heat", sa.Float(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("heat_at", UTCDateTime(), nullable=True))
        batch_op.drop_index("ix_event_latitude_longitude")
        batch_op.create_index("ix_event_nearby", NEARBY, unique=False)
    recount(op.get_bind())


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of the table would trip
    # the foreign keys that point at it
    op.drop_index("ix_event_nearby", table_name="event")
    op.create_index("ix_event_latitude_longitude", "event", ["latitude", "longitude"])
    op.drop_index("ix_community_group_visibility_members", table_name="community_group")
    op.drop_column("community_group", "members")
    for column in ("heat_at", "heat", "waiting", "going"):
        op.drop_column("event", column)
