"""Edited posts; reports that admins and operators can act on

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("post", sa.Column("edited_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("report") as table:
        table.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        table.add_column(sa.Column("post_id", sa.Integer(), nullable=True))
        table.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="open")
        )
        table.add_column(sa.Column("handled_by", sa.Integer(), nullable=True))
        table.create_foreign_key("fk_report_group", "community_group", ["group_id"], ["id"])
        table.create_foreign_key("fk_report_post", "post", ["post_id"], ["id"])
        table.create_foreign_key("fk_report_handled_by", "person", ["handled_by"], ["id"])
    op.create_index("ix_report_status_group", "report", ["status", "group_id"])


def downgrade() -> None:
    op.drop_index("ix_report_status_group", table_name="report")
    with op.batch_alter_table("report") as table:
        table.drop_constraint("fk_report_handled_by", type_="foreignkey")
        table.drop_constraint("fk_report_post", type_="foreignkey")
        table.drop_constraint("fk_report_group", type_="foreignkey")
        table.drop_column("handled_by")
        table.drop_column("status")
        table.drop_column("post_id")
        table.drop_column("group_id")
    op.drop_column("post", "edited_at")
