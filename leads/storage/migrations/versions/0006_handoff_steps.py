"""Escalation of hand-offs: the current offer's round and time, and every step of a hand-off.

Revision ID: 0006
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("offer_round", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("offered_at", sa.DateTime(timezone=True)))
    # Hand-offs made before escalation existed keep no offer time: the clock leaves them as they are.
    op.create_table(
        "handoff_steps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("lead_id", sa.String(32), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("rep_id", sa.String(64)),
        sa.Column("rep_name", sa.String(200)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_handoff_steps_lead_id", "handoff_steps", ["lead_id"])


def downgrade() -> None:
    op.drop_index("ix_handoff_steps_lead_id", table_name="handoff_steps")
    op.drop_table("handoff_steps")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("offered_at")
        batch.drop_column("offer_round")
