"""stored counts: event going/waiting/heat, group members; /nearby's covering index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 08:10:00

The counts are filled from the rows as they were defined then (one seat per confirmed
registration; `recount` below is a frozen copy of core.services.tallies.recount at this
revision: a migration must not change when the model does); from then on every status change
keeps them in step.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

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


HALF_LIFE_S = 86400.0


def recount(connection: sa.engine.Connection) -> None:
    """Every stored count from the rows, as 0004 defines them."""
    now = datetime.now(UTC)
    group, membership = (
        sa.table("community_group", sa.column("id"), sa.column("members")),
        (sa.table("membership", sa.column("group_id"), sa.column("status"))),
    )
    members = (
        sa.select(sa.func.count())
        .where(membership.c.group_id == group.c.id, membership.c.status == "active")
        .scalar_subquery()
    )
    connection.execute(sa.update(group).values(members=members))
    event = sa.table(
        "event",
        sa.column("id"),
        sa.column("going"),
        sa.column("waiting"),
        sa.column("heat"),
        sa.column("heat_at", UTCDateTime()),
    )
    registration = sa.table(
        "registration",
        sa.column("event_id"),
        sa.column("status"),
        sa.column("updated_at", UTCDateTime()),
    )

    def roster(status: str) -> sa.ScalarSelect:
        return (
            sa.select(sa.func.count())
            .where(registration.c.event_id == event.c.id, registration.c.status == status)
            .scalar_subquery()
        )

    connection.execute(
        sa.update(event).values(
            going=roster("confirmed"), waiting=roster("waitlisted"), heat=0, heat_at=None
        )
    )
    since = now - timedelta(days=30)
    heats: dict[int, float] = defaultdict(float)
    for event_id, updated_at in connection.execute(
        sa.select(registration.c.event_id, registration.c.updated_at).where(
            registration.c.status == "confirmed", registration.c.updated_at >= since
        )
    ):
        heats[event_id] += 0.5 ** ((now - updated_at).total_seconds() / HALF_LIFE_S)
    if heats:
        connection.execute(
            sa.update(event).where(event.c.id == sa.bindparam("event_id")),
            [{"event_id": k, "heat": v, "heat_at": now} for k, v in heats.items()],
        )
