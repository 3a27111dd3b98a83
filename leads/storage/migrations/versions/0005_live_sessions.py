"""Live hand-offs: a rep talking to a web visitor through the Slack thread of the lead's card.

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lead_id", sa.String(32), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("rep_name", sa.String(200), nullable=False),
        sa.Column("slack_user", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("thread_ts", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_live_sessions_thread", "live_sessions", ["channel", "thread_ts"])
    op.create_index("ix_live_sessions_lead_id", "live_sessions", ["lead_id"])


def downgrade() -> None:
    op.drop_index("ix_live_sessions_lead_id", "live_sessions")
    op.drop_index("ix_live_sessions_thread", "live_sessions")
    op.drop_table("live_sessions")
