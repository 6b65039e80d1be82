"""/nearby's covering index ends with the activity's id

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 11:25:00

A PostgreSQL index holds only the columns it names, so without the id every row of a city's
box was fetched from the table (a bitmap heap scan of about a thousand pages for the largest
city); with it, the box is an index-only scan. SQLite keeps the rowid in every index anyway.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCORED = ["latitude", "longitude", "status", "starts_at", "group_id", "capacity", "going"]
SCORED += ["heat", "heat_at"]


def upgrade() -> None:
    op.drop_index("ix_event_nearby", table_name="event")
    op.create_index("ix_event_nearby", "event", [*SCORED, "id"])


def downgrade() -> None:
    op.drop_index("ix_event_nearby", table_name="event")
    op.create_index("ix_event_nearby", "event", SCORED)
