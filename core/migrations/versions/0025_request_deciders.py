"""Who decided a join request, so another admin's tap on it says who did

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("membership") as batch_op:
        batch_op.add_column(sa.Column("decided_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_membership_decided_by_person", "person", ["decided_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("membership") as batch_op:
        batch_op.drop_constraint("fk_membership_decided_by_person", type_="foreignkey")
        batch_op.drop_column("decided_by")
