"""A group may have several home chats, on one platform or several

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-05 05:00:00

The unique key moves from (group, platform) to (group, platform, chat). The table is rebuilt
(the old key has no name SQLite could drop it by), its rows copied as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "id, group_id, platform, chat_id, locale"


def _rebuild(unique: list[str], keep: str) -> None:
    op.create_table(
        "group_chat_new",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("community_group.id"), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("locale", sa.String(16), nullable=True),
        sa.UniqueConstraint(*unique),
    )
    op.execute(f"INSERT INTO group_chat_new ({COLUMNS}) SELECT {COLUMNS} FROM group_chat {keep}")
    op.drop_index("ix_group_chat_group_id", table_name="group_chat")
    op.drop_table("group_chat")
    op.rename_table("group_chat_new", "group_chat")
    op.create_index("ix_group_chat_group_id", "group_chat", ["group_id"])


def upgrade() -> None:
    _rebuild(["group_id", "platform", "chat_id"], "")


def downgrade() -> None:
    # one home per platform again: the newest of each group's homes on a platform stays
    newest = "WHERE id IN (SELECT max(id) FROM group_chat GROUP BY group_id, platform)"
    _rebuild(["group_id", "platform"], newest)
