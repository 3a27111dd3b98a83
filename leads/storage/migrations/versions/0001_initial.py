"""Leads, stakeholders, hand-offs, deliveries and referrals.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "leads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("conversation_id", sa.String(128), nullable=False, unique=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("contact_name", sa.String(200)),
        sa.Column("contact_email", sa.String(320), index=True),
        sa.Column("contact_phone", sa.String(64)),
        sa.Column("company", sa.String(200)),
        sa.Column("job_title", sa.String(200)),
        sa.Column("need_summary", sa.Text),
        sa.Column("need_category", sa.String(64)),
        sa.Column("interest_level", sa.String(16)),
        sa.Column("interest_signals", sa.JSON, nullable=False),
        sa.Column("authority", sa.String(16), nullable=False),
        sa.Column("benefits", sa.JSON, nullable=False),
        sa.Column("current_vendor", sa.String(200)),
        sa.Column("timeline", sa.String(200)),
        sa.Column("budget_amount", sa.Integer),
        sa.Column("budget_currency", sa.String(3)),
        sa.Column("referred_by", sa.String(32), sa.ForeignKey("leads.id", ondelete="SET NULL")),
        sa.Column("consent", sa.Boolean, nullable=False),
        sa.Column("confirmed", sa.Boolean, nullable=False),
        sa.Column("finished", sa.Boolean, nullable=False),
        sa.Column("disqualify", sa.String(32)),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("risks", sa.JSON, nullable=False),
        sa.Column("transcript", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False, index=True),
    )
    op.create_table(
        "stakeholders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lead_id", sa.String(32), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("role", sa.String(200)),
        sa.Column("stance", sa.String(16), nullable=False),
        sa.Column("concern", sa.Text),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lead_id", sa.String(32), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, unique=True),
        sa.Column("rep_id", sa.String(64)),
        sa.Column("rep_name", sa.String(200)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("notified_at", TS),
        sa.Column("accepted_at", TS),
        sa.Column("accepted_by", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lead_id", sa.String(32), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "delivery_id", sa.Integer, sa.ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("at", TS, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lead_id", sa.String(32), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("name", sa.String(200)),
        sa.Column("email", sa.String(320), index=True),
        sa.Column("company", sa.String(200)),
        sa.Column("note", sa.Text),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("referrals", "delivery_attempts", "deliveries", "handoffs", "stakeholders", "leads"):
        op.drop_table(table)
