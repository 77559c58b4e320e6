"""A key per add(), so a retry after a lost commit acknowledgement finds the decision instead of adding it twice.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("decisions", sa.Column("write_key", sa.String(64), nullable=True))
    op.create_index("ix_decisions_write_key", "decisions", ["write_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_index("ix_decisions_write_key")
        batch.drop_column("write_key")
