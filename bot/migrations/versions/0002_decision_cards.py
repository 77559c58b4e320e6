"""Where each decision's Slack card was posted, so a change updates every copy.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decision_cards",
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("ts", sa.String(32), primary_key=True),
        sa.Column("decision_id", sa.String(16), sa.ForeignKey("decisions.id"), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("decision_cards")
