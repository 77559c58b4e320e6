"""Who may see each decision; the audit record of every request; open solicitations (procurement blackout).

Decisions stored before this revision become ``internal`` (the record fails closed: nothing becomes
public unless someone marks it so).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("decisions", sa.Column("visibility", sa.String(16), nullable=False, server_default="internal"))
    op.add_column("decisions", sa.Column("groups", sa.Text, nullable=False, server_default=""))
    op.create_table(
        "audit_log",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("at", sa.Float, nullable=False, index=True),
        sa.Column("door", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("audience", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("place", sa.String(16), nullable=False),
        sa.Column("verb", sa.String(32), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("cited", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "solicitations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("keywords", sa.Text, nullable=False),
        sa.Column("documents", sa.Text, nullable=False),
        sa.Column("opens", sa.String(10), nullable=False),
        sa.Column("closes", sa.String(10), nullable=False),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("qa_address", sa.String(300), nullable=False),
        sa.Column("closed_at", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("solicitations")
    op.drop_table("audit_log")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("groups")
        batch.drop_column("visibility")
