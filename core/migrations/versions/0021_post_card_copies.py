"""Live post cards: a card copy is of an activity or of a post; refresh jobs name which

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("card_copy") as batch:
        batch.alter_column("event_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("post_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_card_copy_post_id_post", "post", ["post_id"], ["id"])
        batch.create_index("ix_card_copy_post_id", ["post_id"])
    op.execute("UPDATE job SET key = 'event:' || key WHERE kind = 'cards'")


def downgrade() -> None:
    op.execute("DELETE FROM job WHERE kind = 'cards' AND key LIKE 'post:%'")
    op.execute("UPDATE job SET key = substr(key, 7) WHERE kind = 'cards'")
    op.execute("DELETE FROM card_copy WHERE post_id IS NOT NULL")
    with op.batch_alter_table("card_copy") as batch:
        batch.drop_index("ix_card_copy_post_id")
        batch.drop_constraint("fk_card_copy_post_id_post", type_="foreignkey")
        batch.drop_column("post_id")
        batch.alter_column("event_id", existing_type=sa.Integer(), nullable=False)
