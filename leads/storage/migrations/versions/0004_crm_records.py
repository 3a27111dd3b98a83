"""CRM records: the ids each CRM gave a lead's objects, so that a conversation that goes on updates them.

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
    op.create_table(
        "crm_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lead_id", sa.String(32), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("crm", sa.String(16), nullable=False),
        sa.Column("object_ids", sa.JSON, nullable=False),
        sa.Column("digest", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("lead_id", "crm", name="uq_crm_records_lead_crm"),
    )
    op.create_index("ix_crm_records_lead_id", "crm_records", ["lead_id"])


def downgrade() -> None:
    op.drop_index("ix_crm_records_lead_id", table_name="crm_records")
    op.drop_table("crm_records")
